{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

{#- Order lines with gross, discount, tax and net amounts in the order's currency and in EUR
    at the order day's rate. Incremental: a run reprocesses each line whose own load, its
    order's load or its rate's load differs from the version held (new lines, lines of updated
    orders, lines of days whose rate changed or arrived), which is everything a full refresh
    could compute differently. -#}
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

    {{ new_or_changed_rows(
        'joined', 'order_line_id', ['_dlt_load_id', 'order_load_id', 'fx_load_id']
    ) }}

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
        -- flags
        has_product,
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
        -- the loads of the line, its order and its rate, which an incremental run compares
        _dlt_load_id,
        order_load_id,
        fx_load_id

    from changed

)

select * from final
