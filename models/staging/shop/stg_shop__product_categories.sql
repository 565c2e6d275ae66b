with

source as (

    {{ completed_loads('shop', 'product_categories') }}

),

renamed as (

    select
        cast(category_id as bigint) as category_id,
        trim(cast(category_name as {{ type_varchar() }})) as category_name,
        lower(trim(cast(department as {{ type_varchar() }}))) as department,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

)

select * from renamed
