{{
    config(
        materialized='incremental',
        unique_key=['snapshot_date', 'warehouse_code', 'sku'],
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('snapshot_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Daily stock per warehouse and product, with the shop's product id for the 3PL's SKU; one
    row per day, warehouse and SKU, the latest delivery's (a re-delivered snapshot replaces the
    day). Incremental: a run takes the days, warehouses and SKUs that loads since the last run
    delivered, and the rows of each SKU whose product the shop added or changed since. -#}
with

inventory as (

    select * from {{ ref('stg_logistics__inventory_snapshots') }}

),

products as (

    select * from {{ ref('ods_products') }}

),

{%- if is_incremental() %}

    relinked_skus as (

        -- SKUs whose product id is not the one held: a product added or given another SKU
        select products.sku
        from products
        where
            {{ loaded_since_last_run('products._loaded_at') }}
            and not exists (
                select 1
                from {{ this }} as held
                where held.sku = products.sku and held.product_id = products.product_id
            )

    ),

{%- endif %}

touched_inventory as (

    select *
    from inventory
    {%- if is_incremental() %}
        where
            (snapshot_date, warehouse_code, sku) in (
                {{ keys_loaded_since_last_run(
                    ref('stg_logistics__inventory_snapshots'),
                    'snapshot_date, warehouse_code, sku',
                ) }}
            )
            or sku in (select relinked_skus.sku from relinked_skus)
    {%- endif %}

),

deduplicated as (

    {{ deduplicate(
        'touched_inventory', 'snapshot_date, warehouse_code, sku', '_dlt_load_id desc'
    ) }}

),

final as (

    select
        deduplicated.warehouse_code,
        deduplicated.sku,
        products.product_id,
        deduplicated.on_hand_qty,
        deduplicated.reserved_qty,
        deduplicated.inbound_qty,
        deduplicated.on_hand_qty - deduplicated.reserved_qty as available_qty,
        deduplicated.snapshot_date,
        deduplicated._dlt_load_id,
        deduplicated._loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from deduplicated
    left join products
        on deduplicated.sku = products.sku

)

{{ batch_with_rest_of_its_days('final') }}
