with

source as (

    {{ completed_loads('shop', 'products') }}

),

renamed as (

    select
        cast(product_id as bigint) as product_id,
        cast(category_id as bigint) as category_id,
        upper(trim(cast(sku as {{ type_varchar() }}))) as sku,
        trim(cast(product_name as {{ type_varchar() }})) as product_name,
        lower(trim(cast(status as {{ type_varchar() }}))) as product_status,
        {{ money('list_price_eur') }} as list_price_eur,
        {{ money('unit_cost_eur') }} as unit_cost_eur,
        cast(weight_kg as numeric(10, 3)) as weight_kg,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        {{ is_unknown_code('product_status', 'product_status') }} as is_unknown_product_status

    from renamed

)

select * from flagged
