{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

{#- Which session gets the credit for each order, under two models: first touch and last
    touch. Candidate sessions are those of every web visitor linked to the order's customer
    (by logging in) or to the order itself (its order_completed event), that started at most
    var attribution_window_days before the order and not after it. Sessions with a channel
    beat direct ones; an order with only direct sessions is direct, one without any session
    is unknown. Exactly one row per order and model. Incremental: a run recomputes the orders
    that changed, whose customer was linked to another visitor, whose customer's or own
    visitors' events a load since the last run changed, or whose customer or number such an
    event named before or after (web_event_deliveries_since_last_run). -#}

-- depends_on: {{ ref('int_web_recent_event_deliveries') }}
-- depends_on: {{ ref('stg_web__events') }}
with

all_orders as (

    select * from {{ ref('ods_orders') }}

),

web_identities as (

    select * from {{ ref('ods_web_identities') }}

),

sessions as (

    select * from {{ ref('ods_web_sessions') }}

),

{%- if is_incremental() %}

changed_deliveries as (

    -- every delivery of each event the loads since brought, old and new: also of an event
    -- re-sent under another visitor, customer or order number, without a newer load of the old
    {{ web_event_deliveries_since_last_run() }}

),

changed_orders as (

    select order_id from all_orders
    where {{ loaded_since_last_run() }}

    union

    select all_orders.order_id
    from all_orders
    inner join web_identities
        on all_orders.customer_id = web_identities.customer_id
    where {{ loaded_since_last_run('web_identities._loaded_at') }}

    union

    -- the orders of the customers a changed visitor is linked to
    select all_orders.order_id
    from changed_deliveries
    inner join web_identities
        on changed_deliveries.anonymous_id = web_identities.anonymous_id
    inner join all_orders
        on web_identities.customer_id = all_orders.customer_id

    union

    select all_orders.order_id
    from changed_deliveries
    inner join sessions
        on changed_deliveries.anonymous_id = sessions.anonymous_id
    inner join all_orders
        on sessions.order_number = all_orders.order_number

    union

    -- the orders whose customer or number a changed event named, before or after: an event
    -- re-sent without its customer can end the visitor's only link to that customer's orders
    select order_id from all_orders
    where
        customer_id in (select changed_deliveries.customer_id from changed_deliveries)
        or order_number in (select changed_deliveries.order_number from changed_deliveries)

),

{%- endif %}

orders as (

    select *
    from all_orders
    {%- if is_incremental() %}
        where all_orders.order_id in (select changed_orders.order_id from changed_orders)
    {%- endif %}

),

order_visitors as (

    select
        orders.order_id,
        web_identities.anonymous_id

    from orders
    inner join web_identities
        on orders.customer_id = web_identities.customer_id

    union

    select
        orders.order_id,
        sessions.anonymous_id

    from orders
    inner join sessions
        on orders.order_number = sessions.order_number

),

candidate_sessions as (

    select
        orders.order_id,
        sessions.session_id,
        sessions.channel_code,
        sessions.utm_source,
        sessions.utm_campaign,
        sessions.started_at,
        sessions._loaded_at,
        case when sessions.channel_code = 'direct' then 1 else 0 end as is_direct

    from orders
    inner join order_visitors
        on orders.order_id = order_visitors.order_id
    inner join sessions
        on order_visitors.anonymous_id = sessions.anonymous_id
    where
        sessions.started_at <= orders.ordered_at
        and sessions.started_at >= {{ dbt.dateadd(
            'day', -1 * var('attribution_window_days'), 'orders.ordered_at'
        ) }}

),

ranked_sessions as (

    select
        *,
        row_number() over (
            partition by order_id order by is_direct asc, started_at asc, session_id asc
        ) as first_touch_rank,
        row_number() over (
            partition by order_id order by is_direct asc, started_at desc, session_id asc
        ) as last_touch_rank

    from candidate_sessions

),

candidate_loads as (

    select
        order_id,
        max(_loaded_at) as _loaded_at

    from candidate_sessions
    group by order_id

),

attribution_models as (

    select 'first_touch' as attribution_model
    union all
    select 'last_touch' as attribution_model

),

touches as (

    select
        order_id,
        'first_touch' as attribution_model,
        session_id,
        channel_code,
        utm_source,
        utm_campaign,
        started_at

    from ranked_sessions
    where first_touch_rank = 1

    union all

    select
        order_id,
        'last_touch' as attribution_model,
        session_id,
        channel_code,
        utm_source,
        utm_campaign,
        started_at

    from ranked_sessions
    where last_touch_rank = 1

),

final as (

    select
        orders.order_id,
        orders.order_number,
        attribution_models.attribution_model,
        touches.session_id,
        coalesce(touches.channel_code, 'unknown') as channel_code,
        touches.utm_source,
        touches.utm_campaign,
        touches.session_id is not null and touches.channel_code != 'direct' as is_attributed,
        orders.order_date,
        orders.ordered_at,
        touches.started_at as touched_at,
        -- the newest load among the order and its candidate sessions
        greatest(
            orders._loaded_at, coalesce(candidate_loads._loaded_at, orders._loaded_at)
        ) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from orders
    cross join attribution_models
    left join touches
        on
            orders.order_id = touches.order_id
            and attribution_models.attribution_model = touches.attribution_model
    left join candidate_loads
        on orders.order_id = candidate_loads.order_id

)

select * from final
