{#- Which session gets the credit for each order, under two models: first touch and last
    touch. Candidate sessions are those of every web visitor linked to the order's customer
    (by logging in) or to the order itself (its order_completed event), that started at most
    var attribution_window_days before the order and not after it. Sessions with a channel
    beat direct ones; an order with only direct sessions is direct, one without any session
    is unknown. Exactly one row per order and model. -#}
with

orders as (

    select * from {{ ref('ods_orders') }}

),

web_identities as (

    select * from {{ ref('ods_web_identities') }}

),

sessions as (

    select * from {{ ref('ods_web_sessions') }}

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
        touches.started_at as touched_at

    from orders
    cross join attribution_models
    left join touches
        on
            orders.order_id = touches.order_id
            and attribution_models.attribution_model = touches.attribution_model

)

select * from final
