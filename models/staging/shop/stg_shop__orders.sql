with

source as (

    {{ completed_loads('shop', 'orders') }}

),

renamed as (

    select
        -- ids
        cast(order_id as bigint) as order_id,
        upper(trim(cast(order_number as {{ type_varchar() }}))) as order_number,
        cast(customer_id as bigint) as customer_id,
        cast(shipping_address_id as bigint) as shipping_address_id,
        cast(billing_address_id as bigint) as billing_address_id,
        cast(discount_id as bigint) as discount_id,
        -- codes
        lower(trim(cast(status as {{ type_varchar() }}))) as order_status,
        upper(trim(cast(currency_code as {{ type_varchar() }}))) as currency_code,
        -- amounts in the order's currency
        {{ money('subtotal_amount') }} as subtotal_amount,
        {{ money('discount_amount') }} as discount_amount,
        {{ money('shipping_amount') }} as shipping_amount,
        {{ money('tax_amount') }} as tax_amount,
        {{ money('total_amount') }} as total_amount,
        -- timestamps
        {{ to_utc_timestamp('ordered_at') }} as ordered_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    -- an order with a status the shop does not document, or without its customer, is still
    -- an order (money): it lands as sent and flagged; only a cancelled order leaves revenue
    select
        *,
        {{ is_unknown_code('order_status', 'order_status') }} as is_unknown_order_status,
        customer_id is not null as has_customer

    from renamed

)

select * from flagged
