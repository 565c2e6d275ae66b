{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

{#- The shop's order headers, one row per order: its latest version. The shop is read with a
    lookback, so every load re-delivers the orders of the days before; this is the one place
    they become one row per order_id, for ods_orders and for the models that ods_orders reads
    (ods_payments and ods_shipments find an order by its number here, which they could not do
    in ods_orders without a cycle). Incremental: a run takes every version of each order that a
    load since the last run touched, so the latest one wins as in a full refresh. -#}
with

orders as (

    {{ rows_of_keys_loaded_since_last_run(ref('stg_shop__orders'), 'order_id') }}

),

deduplicated as (

    {{ deduplicate('orders', 'order_id', 'updated_at desc, _dlt_load_id desc') }}

),

final as (

    select
        order_id,
        order_number,
        customer_id,
        shipping_address_id,
        billing_address_id,
        discount_id,
        order_status,
        currency_code,
        subtotal_amount,
        discount_amount,
        shipping_amount,
        tax_amount,
        total_amount,
        is_unknown_order_status,
        has_customer,
        ordered_at,
        updated_at,
        _dlt_load_id,
        _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from deduplicated

)

select * from final
