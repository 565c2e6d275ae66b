{#- One row per country Larkspur sells to, with its sales region, currency and the
    warehouse that ships there, plus the unknown member. -#}
with

countries as (

    select * from {{ ref('countries') }}

),

final as (

    select
        cast({{ generate_surrogate_key(['country_code']) }} as {{ type_varchar() }})
            as geography_sk,
        cast(country_code as {{ type_varchar() }}) as country_code,
        cast(country_name as {{ type_varchar() }}) as country_name,
        cast(region_code as {{ type_varchar() }}) as region_code,
        cast(region_name as {{ type_varchar() }}) as region_name,
        cast(currency_code as {{ type_varchar() }}) as currency_code,
        cast(warehouse_code as {{ type_varchar() }}) as warehouse_code,
        cast(is_eu as boolean) as is_eu

    from countries

    union all

    select
        cast({{ unknown_member_key() }} as {{ type_varchar() }}) as geography_sk,
        cast(null as {{ type_varchar() }}) as country_code,
        cast('Unknown' as {{ type_varchar() }}) as country_name,
        cast(null as {{ type_varchar() }}) as region_code,
        cast('Unknown' as {{ type_varchar() }}) as region_name,
        cast(null as {{ type_varchar() }}) as currency_code,
        cast(null as {{ type_varchar() }}) as warehouse_code,
        cast(null as boolean) as is_eu

)

select * from final
