{{
    config(
        materialized='incremental',
        unique_key='tracking_event_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('event_date'),
    )
}}

{#- Carrier tracking events, one row per tracking_event_id: a re-delivered or repeated event
    keeps the latest load's version. Incremental: a run takes every delivery of each event that
    a load since the last run brought, so late events are picked up whenever they arrive;
    where the table is partitioned by event_date (Spark), every event of each day such a load
    touched. -#}
with

tracking_events as (

    {{ rows_of_keys_loaded_since_last_run(
        ref('stg_logistics__tracking_events'), 'tracking_event_id', day='cast(event_at as date)'
    ) }}

),

deduplicated as (

    {{ deduplicate('tracking_events', 'tracking_event_id', '_dlt_load_id desc') }}

),

transformed as (

    select
        tracking_event_id,
        shipment_id,
        carrier_code,
        event_code,
        event_location,
        country_code,
        cast(event_at as date) as event_date,
        event_at,
        _dlt_load_id,
        _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from deduplicated

)

select * from transformed
