{#- Grain: one order day, shipping country, last-touch channel and revenue category. Revenue
    of orders that were not cancelled, in EUR. -#}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

geography as (

    select * from {{ ref('dim_geography') }}

),

attribution as (

    select * from {{ ref('fct_order_attribution') }}

),

lines_classified as (

    select
        order_lines.order_id,
        order_lines.order_date,
        geography.country_code,
        coalesce(attribution.channel_code, 'unknown') as channel_code,
        products.revenue_category,
        order_lines.quantity,
        order_lines.gross_amount_eur,
        order_lines.discount_amount_eur,
        order_lines.tax_amount_eur,
        order_lines.net_amount_eur

    from order_lines
    inner join products
        on order_lines.product_sk = products.product_sk
    inner join geography
        on order_lines.geography_sk = geography.geography_sk
    left join attribution
        on
            order_lines.order_id = attribution.order_id
            and attribution.attribution_model = 'last_touch'
    where not order_lines.is_cancelled

),

aggregated as (

    select
        order_date,
        country_code,
        channel_code,
        revenue_category,
        count(distinct order_id) as order_count,
        sum(quantity) as quantity,
        sum(gross_amount_eur) as gross_amount_eur,
        sum(discount_amount_eur) as discount_amount_eur,
        sum(tax_amount_eur) as tax_amount_eur,
        sum(net_amount_eur) as net_revenue_eur

    from lines_classified
    group by order_date, country_code, channel_code, revenue_category

),

final as (

    select
        cast(
            {{ generate_surrogate_key([
                'order_date', 'country_code', 'channel_code', 'revenue_category',
            ]) }} as {{ type_varchar() }}
        ) as revenue_daily_sk,
        {{ date_sk('order_date') }} as order_date_sk,
        cast(coalesce(country_code, 'unknown') as {{ type_varchar() }}) as country_code,
        cast(channel_code as {{ type_varchar() }}) as channel_code,
        cast(revenue_category as {{ type_varchar() }}) as revenue_category,
        cast(order_count as integer) as order_count,
        cast(quantity as bigint) as quantity,
        cast(gross_amount_eur as numeric(18, 2)) as gross_amount_eur,
        cast(discount_amount_eur as numeric(18, 2)) as discount_amount_eur,
        cast(tax_amount_eur as numeric(18, 2)) as tax_amount_eur,
        cast(net_revenue_eur as numeric(18, 2)) as net_revenue_eur,
        cast(order_date as date) as order_date

    from aggregated

)

select * from final
