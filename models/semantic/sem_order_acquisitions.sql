{#- Grain: one order. What MetricFlow needs to count new customers, which no mart holds yet:
    whether the order was its customer's first (earliest ordered_at, cancelled orders
    included; the marketing analysis reads it too) and the channel and campaign it was
    attributed to last-touch. A measure cannot find a customer's first order itself. In an
    existing schema, as metricflow_time_spine; grants in dbt_project.yml. -#}
{{ config(schema='marketing') }}
with

orders as (

    select * from {{ ref('ods_orders') }}

),

attribution as (

    select * from {{ ref('fct_order_attribution') }}

),

first_orders as (

    select
        customer_id,
        min(ordered_at) as first_ordered_at

    from orders
    group by customer_id

),

last_touch as (

    select
        order_id,
        channel_code,
        campaign_sk

    from attribution
    where attribution_model = 'last_touch'

),

final as (

    select
        cast(orders.order_id as bigint) as order_id,
        cast(orders.customer_id as bigint) as customer_id,
        cast(last_touch.campaign_sk as {{ type_varchar() }}) as campaign_sk,
        cast(last_touch.channel_code as {{ type_varchar() }}) as channel_code,
        cast(
            coalesce(orders.ordered_at = first_orders.first_ordered_at, false) as boolean
        ) as is_first_order,
        cast(orders.order_date as date) as order_date,
        cast(orders.ordered_at as timestamp) as ordered_at

    from orders
    left join first_orders
        on orders.customer_id = first_orders.customer_id
    left join last_touch
        on orders.order_id = last_touch.order_id

)

select * from final
