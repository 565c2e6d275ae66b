{{
    config(
        materialized='incremental',
        unique_key='anonymous_id',
        incremental_strategy=incremental_strategy(empties_keys=true),
        on_schema_change='append_new_columns',
    )
}}

{#- Which web visitors (anonymous ids) are which customers: every pair seen on an event of a
    logged-in visitor. One visitor can be several customers (a shared device) and one customer
    several visitors (phone and laptop). Incremental: a run recomputes every pair of each
    visitor whose events a load since the last run changed, also of one that a re-sent event
    moved away from, and drops the pairs of a visitor left without any. -#}

-- depends_on: {{ ref('int_web_recent_event_deliveries') }}
-- depends_on: {{ ref('stg_web__events') }}
with

events as (

    select * from {{ ref('ods_web_events') }}
    where customer_id is not null

),

{%- if is_incremental() %}

changed_visitors as (

    {{ web_visitors_changed_since_last_run() }}

),

{%- endif %}

pairs as (

    select
        events.anonymous_id,
        events.customer_id,
        count(*) as event_count,
        min(events.occurred_at) as first_seen_at,
        max(events.occurred_at) as last_seen_at,
        max(events._loaded_at) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from events
    {%- if is_incremental() %}
        inner join changed_visitors
            on events.anonymous_id = changed_visitors.anonymous_id
    {%- endif %}
    group by events.anonymous_id, events.customer_id

),

final as (

    {%- if is_incremental() %}
        {{ rows_or_emptied_keys(
            'select anonymous_id from changed_visitors', 'pairs', 'anonymous_id'
        ) }}
    {%- else %}
        select * from pairs
    {%- endif %}

)

select * from final
