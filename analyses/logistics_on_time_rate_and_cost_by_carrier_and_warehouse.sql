-- Logistics: on-time rate (definition in the docs: on_time_rate) and average shipping cost
-- per shipment in EUR, by carrier and warehouse.
with

shipments as (

    select * from {{ ref('fct_shipments') }}

),

carriers as (

    select * from {{ ref('dim_carrier') }}

),

warehouses as (

    select * from {{ ref('dim_warehouse') }}

)

select
    warehouses.warehouse_code,
    carriers.carrier_name,
    count(*) as shipment_count,
    sum(case when shipments.is_delivered then 1 else 0 end) as delivered_count,
    avg(case when shipments.is_on_time then 1.0 when not shipments.is_on_time then 0.0 end)
        as on_time_rate,
    avg(shipments.transit_days) as average_transit_days,
    sum(shipments.shipping_cost_eur) / count(*) as cost_per_shipment_eur
from shipments
inner join carriers
    on shipments.carrier_sk = carriers.carrier_sk
inner join warehouses
    on shipments.warehouse_sk = warehouses.warehouse_sk
group by warehouses.warehouse_code, carriers.carrier_name
order by warehouses.warehouse_code, carriers.carrier_name
