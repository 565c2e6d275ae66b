{#- Larkspur's fulfilment centres. -#}
with

warehouses as (

    select * from {{ ref('warehouses') }}

),

final as (

    select
        cast({{ generate_surrogate_key(['warehouse_code']) }} as {{ warehouse_type('varchar') }}) as warehouse_sk,
        cast(warehouse_code as {{ warehouse_type('varchar') }}) as warehouse_code,
        cast(warehouse_name as {{ warehouse_type('varchar') }}) as warehouse_name,
        cast(city as {{ warehouse_type('varchar') }}) as city,
        cast(country_code as {{ warehouse_type('varchar') }}) as country_code,
        cast(region_code as {{ warehouse_type('varchar') }}) as region_code

    from warehouses

)

select * from final
