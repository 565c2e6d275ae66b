-- Marketing: ROAS and CAC by channel and month (definitions in the docs: roas, cac).
-- Revenue and new customers are credited last-touch; spend is the platforms' latest restatement.
with

spend as (

    select * from {{ ref('fct_ad_spend_daily') }}

),

attribution as (

    select * from {{ ref('fct_order_attribution') }}

),

acquisitions as (

    select * from {{ ref('sem_order_acquisitions') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

last_touch_orders as (

    select
        {{ dbt.date_trunc('month', 'attribution.order_date') }} as activity_month,
        attribution.channel_code,
        case
            when not attribution.is_cancelled then attribution.net_amount_eur
        end as net_amount_eur,
        case
            when acquisitions.is_first_order then acquisitions.customer_id
        end as new_customer_id
    from attribution
    inner join acquisitions
        on attribution.order_id = acquisitions.order_id
    where attribution.attribution_model = 'last_touch'

),

attributed_orders as (

    select
        activity_month,
        channel_code,
        sum(net_amount_eur) as attributed_net_revenue_eur,
        count(distinct new_customer_id) as new_customer_count
    from last_touch_orders
    group by activity_month, channel_code

),

spend_by_month as (

    select
        {{ dbt.date_trunc('month', 'report_date') }} as activity_month,
        channel_code,
        spend_eur
    from spend

),

monthly_spend as (

    select
        activity_month,
        channel_code,
        sum(spend_eur) as spend_eur
    from spend_by_month
    group by activity_month, channel_code

)

select
    coalesce(monthly_spend.activity_month, attributed_orders.activity_month) as activity_month,
    coalesce(monthly_spend.channel_code, attributed_orders.channel_code) as channel_code,
    channels.is_paid,
    coalesce(monthly_spend.spend_eur, 0) as spend_eur,
    coalesce(attributed_orders.attributed_net_revenue_eur, 0) as attributed_net_revenue_eur,
    coalesce(attributed_orders.new_customer_count, 0) as new_customer_count,
    attributed_orders.attributed_net_revenue_eur
    / nullif(monthly_spend.spend_eur, 0) as roas,
    monthly_spend.spend_eur / nullif(attributed_orders.new_customer_count, 0) as cac_eur
from monthly_spend
full outer join attributed_orders
    on
        monthly_spend.activity_month = attributed_orders.activity_month
        and monthly_spend.channel_code = attributed_orders.channel_code
left join channels
    on coalesce(monthly_spend.channel_code, attributed_orders.channel_code) = channels.channel_code
order by activity_month, channel_code
