with

source as (

    {{ completed_loads('shop', 'addresses') }}

),

renamed as (

    select
        cast(address_id as bigint) as address_id,
        cast(customer_id as bigint) as customer_id,
        lower(trim(cast(address_type as {{ type_varchar() }}))) as address_type,
        trim(cast(line1 as {{ type_varchar() }})) as line1,
        trim(cast(line2 as {{ type_varchar() }})) as line2,
        trim(cast(city as {{ type_varchar() }})) as city,
        upper(trim(cast(postcode as {{ type_varchar() }}))) as postcode,
        upper(trim(cast(country_code as {{ type_varchar() }}))) as country_code,
        cast(is_default as integer) = 1 as is_default,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        {{ is_unknown_code('address_type', 'address_type') }} as is_unknown_address_type,
        -- an address without its customer still says where the orders it names shipped
        customer_id is not null as has_customer

    from renamed

)

select * from flagged
