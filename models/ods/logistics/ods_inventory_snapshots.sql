{#- Daily stock per warehouse and product, with the shop's product id for the 3PL's SKU. -#}
with

inventory as (

    select * from {{ ref('stg_logistics__inventory_snapshots') }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

final as (

    select
        inventory.warehouse_code,
        inventory.sku,
        products.product_id,
        inventory.on_hand_qty,
        inventory.reserved_qty,
        inventory.inbound_qty,
        inventory.on_hand_qty - inventory.reserved_qty as available_qty,
        inventory.snapshot_date

    from inventory
    left join products
        on inventory.sku = products.sku

)

select * from final
