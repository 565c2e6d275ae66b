{{
    config(
        materialized='incremental',
        unique_key='tracking_event_id',
        incremental_strategy='delete+insert',
    )
}}

{#- Carrier tracking events. Incremental: a run inserts the events whose load it does not
    hold yet, so late events are picked up whenever they arrive. -#}
with

tracking_events as (

    select * from {{ ref('stg_logistics__tracking_events') }}

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
        _dlt_load_id

    from tracking_events

),

final as (

    {{ new_or_changed_rows('transformed', 'tracking_event_id', ['_dlt_load_id']) }}

)

select * from final
