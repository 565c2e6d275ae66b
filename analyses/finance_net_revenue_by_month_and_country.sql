-- Finance: net revenue by month and shipping country in EUR, with refunds beside it.
-- Net revenue as defined in the docs (net_revenue): after discounts, before tax and shipping,
-- orders not cancelled, at the order day's reference rate. Orders are counted once each from
-- the order lines: fct_revenue_daily counts an order once per channel and revenue category.
with

revenue as (

    select * from {{ ref('fct_revenue_daily') }}

),

refunds as (

    select * from {{ ref('fct_refunds') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

geography as (

    select * from {{ ref('dim_geography') }}

),

order_countries as (

    select distinct
        order_lines.order_id,
        order_lines.order_date,
        order_lines.is_cancelled,
        geography.country_code
    from order_lines
    inner join geography
        on order_lines.geography_sk = geography.geography_sk

),

revenue_by_month as (

    select
        {{ dbt.date_trunc('month', 'order_date') }} as revenue_month,
        country_code,
        net_revenue_eur
    from revenue

),

orders_by_month as (

    select
        {{ dbt.date_trunc('month', 'order_date') }} as revenue_month,
        country_code,
        count(distinct order_id) as order_count
    from order_countries
    where not is_cancelled
    group by revenue_month, country_code

),

refunds_by_month as (

    select
        {{ dbt.date_trunc('month', 'refunds.refund_date') }} as revenue_month,
        order_countries.country_code,
        refunds.amount_eur
    from refunds
    left join order_countries
        on refunds.order_id = order_countries.order_id
    where refunds.is_succeeded

),

monthly_revenue as (

    select
        revenue_month,
        country_code,
        sum(net_revenue_eur) as net_revenue_eur
    from revenue_by_month
    group by revenue_month, country_code

),

monthly_refunds as (

    select
        revenue_month,
        country_code,
        sum(amount_eur) as refunded_eur
    from refunds_by_month
    group by revenue_month, country_code

)

select
    monthly_revenue.revenue_month,
    monthly_revenue.country_code,
    coalesce(orders_by_month.order_count, 0) as order_count,
    monthly_revenue.net_revenue_eur,
    coalesce(monthly_refunds.refunded_eur, 0) as refunded_eur
from monthly_revenue
left join monthly_refunds
    on
        monthly_revenue.revenue_month = monthly_refunds.revenue_month
        and monthly_revenue.country_code = monthly_refunds.country_code
left join orders_by_month
    on
        monthly_revenue.revenue_month = orders_by_month.revenue_month
        and monthly_revenue.country_code = orders_by_month.country_code
order by monthly_revenue.revenue_month asc, monthly_revenue.net_revenue_eur desc
