with

source as (

    {{ completed_loads('logistics', 'shipments') }}

),

renamed as (

    select
        -- ids
        cast(shipment_id as {{ type_varchar() }}) as shipment_id,
        upper(trim(cast(order_number as {{ type_varchar() }}))) as order_number,
        -- codes
        upper(trim(cast(warehouse_code as {{ type_varchar() }}))) as warehouse_code,
        upper(trim(cast(carrier_code as {{ type_varchar() }}))) as carrier_code,
        lower(trim(cast(service_level as {{ type_varchar() }}))) as service_level,
        upper(trim(cast(destination_country as {{ type_varchar() }}))) as destination_country_code,
        upper(trim(cast(destination_postcode as {{ type_varchar() }}))) as destination_postcode,
        upper(trim(cast(currency_code as {{ type_varchar() }}))) as currency_code,
        -- measures; the loader maps the 3PL's later freight_cost back onto shipping_cost
        cast(package_count as integer) as package_count,
        cast(weight_kg as numeric(10, 3)) as weight_kg,
        {{ money('shipping_cost') }} as shipping_cost,
        -- shipping_cost or freight_cost: which name the 3PL's file used for the cost
        {{ column_or_null(
            source('logistics', 'shipments'), 'shipping_cost_source_column', 'varchar'
        ) }} as shipping_cost_source_column,
        -- timestamps
        {{ to_utc_timestamp('shipped_at') }} as shipped_at,
        _dlt_load_id,
        _loaded_at

    from source

)

select * from renamed
