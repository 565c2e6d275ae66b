{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
    )
}}

{#- Order lines with gross, discount, tax and net amounts in the order's currency and in EUR
    at the order day's rate. Incremental: a run reprocesses the lines of new loads, the lines of
    orders updated by new loads and the lines of days whose exchange rate a new load changed,
    which is everything a full refresh could compute differently. -#}
with

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

joined as (

    select
        order_lines.*,
        orders.currency_code,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders._dlt_load_id as order_load_id,
        fx_rates.rate_per_eur as fx_rate_per_eur,
        fx_rates._dlt_load_id as fx_load_id

    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join fx_rates
        on
            orders.currency_code = fx_rates.currency_code
            and cast(orders.ordered_at as date) = fx_rates.rate_date

),

changed as (

    select *
    from joined
    {% if is_incremental() -%}
        where
            {{ is_newer_load('_dlt_load_id') }}
            or {{ is_newer_load('order_load_id') }}
            or {{ is_newer_load('fx_load_id') }}
    {%- endif %}

),

final as (

    select
        -- ids
        order_line_id,
        order_id,
        product_id,
        -- amounts in the order's currency
        currency_code,
        quantity,
        unit_price,
        {{ money('quantity * unit_price') }} as gross_amount,
        discount_amount,
        tax_amount,
        {{ money('quantity * unit_price - discount_amount') }} as net_amount,
        line_total,
        -- amounts in EUR
        fx_rate_per_eur,
        {{ money('quantity * unit_price / fx_rate_per_eur') }} as gross_amount_eur,
        {{ money('discount_amount / fx_rate_per_eur') }} as discount_amount_eur,
        {{ money('tax_amount / fx_rate_per_eur') }} as tax_amount_eur,
        {{ money('(quantity * unit_price - discount_amount) / fx_rate_per_eur') }}
            as net_amount_eur,
        -- dates and timestamps
        order_date,
        ordered_at,
        created_at,
        updated_at,
        _dlt_load_id

    from changed

)

select * from final
