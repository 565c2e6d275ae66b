{#- Larkspur's fulfilment centres. -#}
with

warehouses as (

    select * from {{ ref('warehouses') }}

),

final as (

    select
        cast({{ generate_surrogate_key(['warehouse_code']) }} as {{ type_varchar() }})
            as warehouse_sk,
        cast(warehouse_code as {{ type_varchar() }}) as warehouse_code,
        cast(warehouse_name as {{ type_varchar() }}) as warehouse_name,
        cast(city as {{ type_varchar() }}) as city,
        cast(country_code as {{ type_varchar() }}) as country_code,
        cast(region_code as {{ type_varchar() }}) as region_code

    from warehouses

)

select * from final
