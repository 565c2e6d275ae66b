{#- The shop's current catalogue, one row per product: its latest version. The snapshot of
    product history (products_snapshot) and the inventory's SKU lookup read it. A table: the
    catalogue is small. -#}
with

products as (

    select * from {{ ref('stg_shop__products') }}

),

deduplicated as (

    {{ deduplicate('products', 'product_id', 'updated_at desc, _dlt_load_id desc') }}

),

final as (

    select
        product_id,
        category_id,
        sku,
        product_name,
        product_status,
        list_price_eur,
        unit_cost_eur,
        weight_kg,
        created_at,
        updated_at,
        _dlt_load_id,
        _loaded_at,
        is_unknown_product_status

    from deduplicated

)

select * from final
