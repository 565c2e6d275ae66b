{{
    config(
        materialized='incremental',
        unique_key='anonymous_id',
        incremental_strategy=incremental_strategy(empties_keys=true),
        on_schema_change='append_new_columns',
    )
}}

{#- Web sessions: a visitor's events of the known types (one of a type nobody documented stays
    in ods_web_events) split where 30 minutes (var session_timeout_minutes) pass without one, or
    where one arrives through a UTM source other than the session's own (events without UTM
    parameters keep it). The channel comes from the first event. Incremental: for each visitor
    with an event delivered since the last run, a run recomputes the sessions from the last
    held visit that began before the event and numbers them on from the earlier ones, which it
    keeps (macro web_sessions_to_recompute); a visitor left without events loses its sessions
    (incremental_strategy(empties_keys=true)). -#}

-- depends_on: {{ ref('int_web_recent_event_deliveries') }}
-- depends_on: {{ ref('stg_web__events') }}
with

events as (

    select * from {{ ref('ods_web_events') }}
    where not {{ is_unknown_code('event_type', 'web_event_type') }}

),

utm_channel_mapping as (

    select * from {{ ref('utm_channel_mapping') }}

),

{{ web_sessions_to_recompute('events') }},

visit_starts as (

    -- a visit: events without a 30-minute pause (null comparison: the visitor's first event)
    select
        *,
        case
            when
                occurred_at <= {{ dbt.dateadd(
                    'minute', var('session_timeout_minutes'),
                    'lag(occurred_at) over (partition by anonymous_id order by occurred_at, event_id)',
                ) }}
                then 0
            else 1
        end as is_visit_start

    from visitor_events

),

visits as (

    -- a UTM run: an event with a UTM source and the events without one that follow it
    select
        *,
        sum(is_visit_start) over (
            partition by anonymous_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as visit_number,
        count(utm_source) over (
            partition by anonymous_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as utm_run_number

    from visit_starts

),

run_sources as (

    -- a run cut by a visit's start has no source in the new visit
    select
        *,
        max(utm_source) over (partition by anonymous_id, visit_number, utm_run_number)
            as run_utm_source

    from visits

),

flagged as (

    -- the session's own source is the last one seen earlier in its visit: another starts one
    select
        *,
        case
            when is_visit_start = 1 then 1
            when
                utm_source is not null
                and utm_source != coalesce(
                    lag(run_utm_source) over (
                        partition by anonymous_id, visit_number order by occurred_at, event_id
                    ),
                    ''
                )
                then 1
            else 0
        end as is_session_start

    from run_sources

),

numbered as (

    select
        *,
        earlier_session_count + sum(is_session_start) over (
            partition by anonymous_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_number

    from flagged

),

session_starts as (

    select
        anonymous_id,
        session_number,
        occurred_at as started_at,
        page_url as landing_page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        country_code,
        device_type

    from numbered
    where is_session_start = 1

),

session_activity as (

    select
        anonymous_id,
        session_number,
        max(customer_id) as customer_id,
        max(order_number) as order_number,
        count(*) as event_count,
        sum(case when event_type = 'page_view' then 1 else 0 end) as page_view_count,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_view_count,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_cart_count,
        sum(case when event_type = 'checkout_started' then 1 else 0 end) as checkout_started_count,
        sum(case when event_type = 'order_completed' then 1 else 0 end)
            as order_completed_count,
        max(occurred_at) as ended_at,
        max(_dlt_load_id) as _dlt_load_id,
        max(_loaded_at) as _loaded_at

    from numbered
    group by anonymous_id, session_number

),

recomputed_sessions as (

    select
        -- ids
        {{ generate_surrogate_key(['session_starts.anonymous_id', 'session_starts.started_at']) }}
            as session_id,
        session_starts.anonymous_id,
        session_activity.customer_id,
        session_activity.order_number,
        -- attributes
        session_starts.landing_page_url,
        session_starts.referrer,
        session_starts.utm_source,
        session_starts.utm_medium,
        session_starts.utm_campaign,
        {{ channel_for_visit(
            'session_starts.utm_source',
            'session_starts.referrer',
            'utm_channel_mapping.channel_code',
        ) }} as channel_code,
        session_starts.country_code,
        session_starts.device_type,
        -- counts
        session_starts.session_number,
        session_activity.event_count,
        session_activity.page_view_count,
        session_activity.product_view_count,
        session_activity.add_to_cart_count,
        session_activity.checkout_started_count,
        session_activity.order_completed_count,
        -- flags
        session_activity.order_completed_count > 0 as has_order,
        -- dates and timestamps
        cast(session_starts.started_at as date) as session_date,
        session_starts.started_at,
        session_activity.ended_at,
        session_activity._dlt_load_id,
        session_activity._loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from session_starts
    inner join session_activity
        on
            session_starts.anonymous_id = session_activity.anonymous_id
            and session_starts.session_number = session_activity.session_number
    left join utm_channel_mapping
        on
            session_starts.utm_source = utm_channel_mapping.utm_source
            and session_starts.utm_medium = utm_channel_mapping.utm_medium

),

{%- if is_incremental() %}

written_sessions as (

    select * from recomputed_sessions

    union all

    select * from kept_sessions

),

{%- endif %}

final as (

    {%- if is_incremental() %}
        {{ rows_or_emptied_keys(
            'select anonymous_id from changed_visitors', 'written_sessions', 'anonymous_id'
        ) }}
    {%- else %}
        select * from recomputed_sessions
    {%- endif %}

)

select * from final
