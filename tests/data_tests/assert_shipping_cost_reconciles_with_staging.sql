-- Shipping cost in fct_shipments equals the 3PL's manifests per currency within a cent,
-- including files that called the column freight_cost. Staging holds every delivered
-- manifest; the latest delivery of each shipment counts, deduplicated here as the ODS does.
-- A daily run checks the shipments it wrote (macro in_keys_written_by_this_run).
with

shipment_deliveries as (

    select * from {{ ref('stg_logistics__shipments') }}
    where {{ in_keys_written_by_this_run('shipment_id', ref('fct_shipments'), 'shipment_id') }}

),

latest_shipments as (

    {{ deduplicate('shipment_deliveries', 'shipment_id', '_dlt_load_id desc') }}

),

mart as (

    select
        currency_code,
        sum(shipping_cost) as shipping_cost
    from {{ ref('fct_shipments') }}
    where {{ in_keys_written_by_this_run('shipment_id', ref('fct_shipments'), 'shipment_id') }}
    group by currency_code

),

staging as (

    select
        currency_code,
        sum(shipping_cost) as shipping_cost
    from latest_shipments
    group by currency_code

)

select
    coalesce(staging.currency_code, mart.currency_code) as currency_code,
    staging.shipping_cost as staging_shipping_cost,
    mart.shipping_cost as mart_shipping_cost
from staging
full outer join mart
    on staging.currency_code = mart.currency_code
where abs(coalesce(staging.shipping_cost, 0) - coalesce(mart.shipping_cost, 0)) >= 0.01
