with

source as (

    {{ completed_loads('shop', 'order_lines') }}

),

renamed as (

    select
        -- ids
        cast(order_line_id as bigint) as order_line_id,
        cast(order_id as bigint) as order_id,
        cast(product_id as bigint) as product_id,
        -- quantities and amounts in the order's currency
        cast(quantity as integer) as quantity,
        {{ money('unit_price') }} as unit_price,
        {{ money('discount_amount') }} as discount_amount,
        {{ money('tax_amount') }} as tax_amount,
        {{ money('line_total') }} as line_total,
        -- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    -- a line whose product is missing is still revenue: it lands, flagged
    select
        *,
        product_id is not null as has_product

    from renamed

)

select * from flagged
