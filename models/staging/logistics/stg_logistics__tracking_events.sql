with

source as (

    {{ completed_loads('logistics', 'tracking_events') }}

),

renamed as (

    select
        cast(tracking_event_id as {{ type_varchar() }}) as tracking_event_id,
        cast(shipment_id as {{ type_varchar() }}) as shipment_id,
        upper(trim(cast(carrier_code as {{ type_varchar() }}))) as carrier_code,
        upper(trim(cast(event_code as {{ type_varchar() }}))) as event_code,
        trim(cast(location as {{ type_varchar() }})) as event_location,
        upper(trim(cast(country_code as {{ type_varchar() }}))) as country_code,
        {{ to_utc_timestamp('event_at') }} as event_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        {{ is_unknown_code('event_code', 'tracking_event_code') }} as is_unknown_event_code

    from renamed

)

select * from flagged
