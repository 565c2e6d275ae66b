{{
    config(
        materialized='incremental',
        unique_key='shipment_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

{#- Shipments with their order, the latest tracking status and the delivery time; one row per
    shipment, the latest manifest's (a re-delivered manifest corrects earlier rows).
    Incremental: a run recomputes each shipment that a load since the last run touched: its
    manifest row, one of its tracking events, the order its number now finds, or its day's
    exchange rate. -#}
with

all_shipments as (

    select * from {{ ref('stg_logistics__shipments') }}

),

all_tracking_events as (

    select * from {{ ref('ods_tracking_events') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

{%- if is_incremental() %}

    touched_shipments as (

        {{ keys_loaded_since_last_run(ref('stg_logistics__shipments'), 'shipment_id') }}
        union
        {{ keys_loaded_since_last_run(ref('ods_tracking_events'), 'shipment_id') }}
        union
        -- the order a manifest's number finds: it may arrive after the shipment
        select held.shipment_id
        from {{ this }} as held
        inner join orders
            on held.order_number = orders.order_number
        where
            {{ loaded_since_last_run('orders._loaded_at') }}
            and held.order_id is distinct from orders.order_id
        union
        {{ held_keys_whose_rate_loaded_since_last_run('shipment_id', 'shipped_date') }}

    ),

{%- endif %}

touched_deliveries as (

    select *
    from all_shipments
    {%- if is_incremental() %}
        where shipment_id in (select touched_shipments.shipment_id from touched_shipments)
    {%- endif %}

),

shipments as (

    {{ deduplicate('touched_deliveries', 'shipment_id', '_dlt_load_id desc') }}

),

tracking_events as (

    select *
    from all_tracking_events
    {%- if is_incremental() %}
        where shipment_id in (select touched_shipments.shipment_id from touched_shipments)
    {%- endif %}

),

ranked_events as (

    select
        shipment_id,
        event_code,
        event_at,
        row_number() over (
            partition by shipment_id order by event_at desc, tracking_event_id desc
        ) as recency_rank

    from tracking_events

),

latest_events as (

    select
        shipment_id,
        event_code as latest_event_code,
        event_at as latest_event_at

    from ranked_events
    where recency_rank = 1

),

tracking_summary as (

    select
        shipment_id,
        count(*) as tracking_event_count,
        min(case when event_code = 'PICKED_UP' then event_at end) as picked_up_at,
        min(case when event_code = 'DELIVERED' then event_at end) as delivered_at,
        min(case when event_code = 'RETURNED' then event_at end) as returned_at,
        sum(case when event_code = 'EXCEPTION' then 1 else 0 end) as exception_count,
        max(_loaded_at) as _loaded_at

    from tracking_events
    group by shipment_id

),

final as (

    select
        -- ids
        shipments.shipment_id,
        orders.order_id,
        shipments.order_number,
        -- codes
        shipments.warehouse_code,
        shipments.carrier_code,
        shipments.service_level,
        shipments.destination_country_code,
        {{ postcode_prefix('shipments.destination_postcode') }}
            as destination_postcode_prefix,
        latest_events.latest_event_code,
        shipments.shipping_cost_source_column,
        -- measures
        shipments.package_count,
        shipments.weight_kg,
        shipments.shipping_cost,
        shipments.currency_code,
        {{ money('shipments.shipping_cost / fx_rates.rate_per_eur') }} as shipping_cost_eur,
        coalesce(tracking_summary.tracking_event_count, 0) as tracking_event_count,
        coalesce(tracking_summary.exception_count, 0) as exception_count,
        -- flags
        shipments.order_number is not null as has_order_number,
        tracking_summary.delivered_at is not null as is_delivered,
        tracking_summary.returned_at is not null as is_returned,
        coalesce(tracking_summary.exception_count, 0) > 0 as has_exception,
        -- dates and timestamps
        cast(shipments.shipped_at as date) as shipped_date,
        cast(tracking_summary.delivered_at as date) as delivered_date,
        shipments.shipped_at,
        tracking_summary.picked_up_at,
        tracking_summary.delivered_at,
        tracking_summary.returned_at,
        latest_events.latest_event_at,
        shipments._dlt_load_id,
        -- the newest load among the manifest's, its tracking events' and its rate's, each of
        -- which recomputes the shipment; an order's (re-read daily within the shop's lookback)
        -- recomputes it only when it links another order, so it is not part of the version
        greatest(
            shipments._loaded_at,
            coalesce(tracking_summary._loaded_at, shipments._loaded_at),
            coalesce(fx_rates._loaded_at, shipments._loaded_at)
        ) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from shipments
    left join orders
        on shipments.order_number = orders.order_number
    left join latest_events
        on shipments.shipment_id = latest_events.shipment_id
    left join tracking_summary
        on shipments.shipment_id = tracking_summary.shipment_id
    left join fx_rates
        on
            shipments.currency_code = fx_rates.currency_code
            and cast(shipments.shipped_at as date) = fx_rates.rate_date

)

select * from final
