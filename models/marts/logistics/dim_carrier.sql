{#- Carriers with the transit days they promise per service level. -#}
with

service_levels as (

    select * from {{ ref('carrier_service_levels') }}

),

carriers as (

    select
        carrier_code,
        max(carrier_name) as carrier_name,
        max(case when service_level = 'standard' then promised_transit_days end)
            as standard_transit_days,
        max(case when service_level = 'express' then promised_transit_days end)
            as express_transit_days

    from service_levels
    group by carrier_code

),

final as (

    select
        cast({{ generate_surrogate_key(['carrier_code']) }} as {{ type_varchar() }}) as carrier_sk,
        cast(carrier_code as {{ type_varchar() }}) as carrier_code,
        cast(carrier_name as {{ type_varchar() }}) as carrier_name,
        cast(standard_transit_days as integer) as standard_transit_days,
        cast(express_transit_days as integer) as express_transit_days

    from carriers

    union all

    select
        cast({{ unknown_member_key() }} as {{ type_varchar() }}) as carrier_sk,
        cast(null as {{ type_varchar() }}) as carrier_code,
        cast('Unknown' as {{ type_varchar() }}) as carrier_name,
        cast(null as integer) as standard_transit_days,
        cast(null as integer) as express_transit_days

)

select * from final
