{{ config(materialized='ephemeral') }}

{#- Each order's shipping destination and discount code, from the shop's addresses and
    discount codes: the masked destination is the shipping address's, or its shipments'
    destination once the customer (and address) has been erased. ods_orders reads it, and
    recomputes an order whose held values differ from these, since an erased customer's
    deleted addresses leave no load time to watch. -#}
with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

address_deliveries as (

    select * from {{ ref('stg_shop__addresses') }}

),

discount_deliveries as (

    select * from {{ ref('stg_shop__discounts') }}

),

shipments as (

    select * from {{ ref('ods_shipments') }}

),

addresses as (

    {{ deduplicate('address_deliveries', 'address_id', 'updated_at desc, _dlt_load_id desc') }}

),

discounts as (

    {{ deduplicate('discount_deliveries', 'discount_id', 'updated_at desc, _dlt_load_id desc') }}

),

shipment_destinations as (

    -- where the order went, for orders whose customer (and address) was erased
    select
        order_id,
        min(destination_country_code) as destination_country_code,
        min(destination_postcode_prefix) as destination_postcode_prefix

    from shipments
    where order_id is not null
    group by order_id

),

final as (

    select
        orders.order_id,
        discounts.discount_code,
        coalesce(addresses.country_code, shipment_destinations.destination_country_code)
            as shipping_country_code,
        coalesce(
            {{ postcode_prefix('addresses.postcode') }},
            shipment_destinations.destination_postcode_prefix
        ) as shipping_postcode_prefix

    from orders
    left join addresses
        on orders.shipping_address_id = addresses.address_id
    left join discounts
        on orders.discount_id = discounts.discount_id
    left join shipment_destinations
        on orders.order_id = shipment_destinations.order_id

)

select * from final
