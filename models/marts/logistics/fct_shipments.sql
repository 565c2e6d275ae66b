{{
    config(
        materialized='incremental',
        unique_key='shipment_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one shipment. Promised against actual delivery: the promised delivery date is the
    ship date plus the carrier's promised transit days for the service level; a delivered
    shipment is on time when it arrived on or before that date. Incremental: a run takes the
    shipments ods_shipments recomputed since. -#}
with

shipments as (

    select * from {{ ref('ods_shipments') }}
    where {{ loaded_since_last_run() }}

),

service_levels as (

    select * from {{ ref('carrier_service_levels') }}

),

warehouses as (

    select * from {{ ref('dim_warehouse') }}

),

carriers as (

    select * from {{ ref('dim_carrier') }}

),

geography as (

    select * from {{ ref('dim_geography') }}

),

promised as (

    select
        shipments.*,
        service_levels.promised_transit_days,
        {{ dbt.dateadd(
            'day', 'service_levels.promised_transit_days', 'shipments.shipped_date'
        ) }} as promised_delivery_date

    from shipments
    left join service_levels
        on
            shipments.carrier_code = service_levels.carrier_code
            and shipments.service_level = service_levels.service_level

),

final as (

    select
        cast({{ generate_surrogate_key(['promised.shipment_id']) }} as {{ type_varchar() }})
            as shipment_sk,
        cast(promised.shipment_id as {{ type_varchar() }}) as shipment_id,
        cast(promised.order_id as bigint) as order_id,
        cast(promised.order_number as {{ type_varchar() }}) as order_number,
        cast(coalesce(warehouses.warehouse_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as warehouse_sk,
        cast(coalesce(carriers.carrier_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as carrier_sk,
        cast(coalesce(geography.geography_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as destination_geography_sk,
        {{ date_sk('promised.shipped_date') }} as shipped_date_sk,
        cast(promised.warehouse_code as {{ type_varchar() }}) as warehouse_code,
        cast(promised.carrier_code as {{ type_varchar() }}) as carrier_code,
        cast(promised.service_level as {{ type_varchar() }}) as service_level,
        cast(promised.latest_event_code as {{ type_varchar() }}) as latest_event_code,
        cast(promised.currency_code as {{ type_varchar() }}) as currency_code,
        cast(promised.package_count as integer) as package_count,
        cast(promised.weight_kg as numeric(10, 3)) as weight_kg,
        cast(promised.shipping_cost as numeric(18, 2)) as shipping_cost,
        cast(promised.shipping_cost_eur as numeric(18, 2)) as shipping_cost_eur,
        cast(promised.promised_transit_days as integer) as promised_transit_days,
        cast(
            {{ dbt.datediff('promised.shipped_date', 'promised.delivered_date', 'day') }}
            as integer
        ) as transit_days,
        cast(promised.has_order_number as boolean) as has_order_number,
        cast(promised.is_delivered as boolean) as is_delivered,
        cast(
            case
                when promised.delivered_date is null then null
                when promised.promised_delivery_date is null then null
                else promised.delivered_date <= promised.promised_delivery_date
            end as boolean
        ) as is_on_time,
        cast(promised.is_returned as boolean) as is_returned,
        cast(promised.has_exception as boolean) as has_exception,
        cast(promised.shipped_date as date) as shipped_date,
        cast(promised.promised_delivery_date as date) as promised_delivery_date,
        cast(promised.delivered_date as date) as delivered_date,
        cast(promised.shipped_at as timestamp) as shipped_at,
        cast(promised.delivered_at as timestamp) as delivered_at,
        cast(promised._loaded_at as timestamp) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from promised
    left join warehouses
        on promised.warehouse_code = warehouses.warehouse_code
    left join carriers
        on promised.carrier_code = carriers.carrier_code
    left join geography
        on promised.destination_country_code = geography.country_code

)

select * from final
