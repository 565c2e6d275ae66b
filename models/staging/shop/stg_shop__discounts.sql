with

source as (

    {{ completed_loads('shop', 'discounts') }}

),

renamed as (

    select
        cast(discount_id as bigint) as discount_id,
        upper(trim(cast(discount_code as {{ type_varchar() }}))) as discount_code,
        lower(trim(cast(discount_type as {{ type_varchar() }}))) as discount_type,
        cast(discount_value as numeric(18, 2)) as discount_value,
        cast(valid_from as date) as valid_from_date,
        cast(valid_to as date) as valid_to_date,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        {{ is_unknown_code('discount_type', 'discount_type') }} as is_unknown_discount_type

    from renamed

)

select * from flagged
