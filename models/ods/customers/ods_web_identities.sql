{{
    config(
        materialized='incremental',
        unique_key='anonymous_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

{#- Which web visitors (anonymous ids) are which customers: every pair seen on an event of a
    logged-in visitor. One visitor can be several customers (a shared device) and one customer
    several visitors (phone and laptop). Incremental: a run recomputes every pair of each
    visitor with an event loaded since the last run. -#}
with

events as (

    select * from {{ ref('ods_web_events') }}
    where customer_id is not null

),

changed_visitors as (

    select distinct anonymous_id
    from events
    where {{ loaded_since_last_run() }}

),

final as (

    select
        events.anonymous_id,
        events.customer_id,
        count(*) as event_count,
        min(events.occurred_at) as first_seen_at,
        max(events.occurred_at) as last_seen_at,
        max(events._loaded_at) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from events
    inner join changed_visitors
        on events.anonymous_id = changed_visitors.anonymous_id
    group by events.anonymous_id, events.customer_id

)

select * from final
