{#- The currencies Larkspur trades in. -#}
with

currencies as (

    select * from {{ ref('currencies') }}

),

final as (

    select
        cast({{ generate_surrogate_key(['currency_code']) }} as {{ type_varchar() }})
            as currency_sk,
        cast(currency_code as {{ type_varchar() }}) as currency_code,
        cast(currency_name as {{ type_varchar() }}) as currency_name,
        cast(minor_unit_digits as integer) as minor_unit_digits,
        cast(is_reporting_currency as boolean) as is_reporting_currency

    from currencies

)

select * from final
