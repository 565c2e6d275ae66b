{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('order_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Order lines with gross, discount, tax and net amounts in the order's currency and in EUR
    at the order day's rate; one row per line, its latest version (the shop's lookback
    re-delivers lines: this is where they become one row per order_line_id). Incremental: a
    run recomputes each line that a load since the last run touched: the line itself, its
    order, or its order day's rate (which arrives or changes after the order), which is
    everything a full refresh could compute differently. -#}
with

all_order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

{%- if is_incremental() %}

touched_lines as (

    {{ keys_loaded_since_last_run(ref('stg_shop__order_lines'), 'order_line_id') }}
    union
    -- lines whose order changed or arrived after them
    select all_order_lines.order_line_id
    from all_order_lines
    where
        all_order_lines.order_id in (
            select orders.order_id
            from orders
            where {{ loaded_since_last_run('orders._loaded_at') }}
        )
    union
    {{ held_keys_whose_rate_loaded_since_last_run('order_line_id', 'order_date') }}

),

{%- endif %}

touched_line_versions as (

    select *
    from all_order_lines
    {%- if is_incremental() %}
        where
            all_order_lines.order_line_id in (
                select touched_lines.order_line_id from touched_lines
            )
    {%- endif %}

),

order_lines as (

    {{ deduplicate(
        'touched_line_versions', 'order_line_id', 'updated_at desc, _dlt_load_id desc'
    ) }}

),

changed as (

    select
        order_lines.*,
        orders.currency_code,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders._dlt_load_id as order_load_id,
        fx_rates.rate_per_eur as fx_rate_per_eur,
        fx_rates._dlt_load_id as fx_load_id,
        greatest(
            order_lines._loaded_at,
            orders._loaded_at,
            coalesce(fx_rates._loaded_at, orders._loaded_at)
        ) as newest_loaded_at

    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join fx_rates
        on
            orders.currency_code = fx_rates.currency_code
            and cast(orders.ordered_at as date) = fx_rates.rate_date

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
        -- the loads of the line, its order and its rate
        _dlt_load_id,
        order_load_id,
        fx_load_id,
        newest_loaded_at as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from changed

)

{{ batch_with_rest_of_its_days('final') }}
