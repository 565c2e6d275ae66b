{{
    config(
        materialized='incremental',
        unique_key='tracking_event_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('event_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one carrier tracking event. Incremental: a run takes the events loaded since the
    last run. -#}
with

tracking_events as (

    select * from {{ ref('ods_tracking_events') }}
    where {{ loaded_since_last_run() }}

),

carriers as (

    select * from {{ ref('dim_carrier') }}

),

final as (

    select
        cast(
            {{ generate_surrogate_key(['tracking_events.tracking_event_id']) }}
            as {{ type_varchar() }}
        ) as shipment_event_sk,
        cast(tracking_events.tracking_event_id as {{ type_varchar() }}) as tracking_event_id,
        cast({{ generate_surrogate_key(['tracking_events.shipment_id']) }} as {{ type_varchar() }})
            as shipment_sk,
        cast(tracking_events.shipment_id as {{ type_varchar() }}) as shipment_id,
        cast(coalesce(carriers.carrier_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as carrier_sk,
        {{ date_sk('tracking_events.event_date') }} as event_date_sk,
        cast(tracking_events.event_code as {{ type_varchar() }}) as event_code,
        cast(tracking_events.event_location as {{ type_varchar() }}) as event_location,
        cast(tracking_events.country_code as {{ type_varchar() }}) as country_code,
        cast(
            {{ is_unknown_code('tracking_events.event_code', 'tracking_event_code') }} as boolean
        ) as is_unknown_event_code,
        cast(tracking_events.event_date as date) as event_date,
        cast(tracking_events.event_at as timestamp) as event_at,
        cast(tracking_events._loaded_at as timestamp) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from tracking_events
    left join carriers
        on tracking_events.carrier_code = carriers.carrier_code

)

{{ batch_with_rest_of_its_days('final') }}
