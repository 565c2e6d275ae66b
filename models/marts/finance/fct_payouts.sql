{#- Grain: one payout, net of the processor's fees: one per currency and covered day, the UTC
    day whose succeeded charges and refunds it settles; it arrives two business days later. -#}
with

payouts as (

    select * from {{ ref('ods_payouts') }}

),

final as (

    select
        cast({{ generate_surrogate_key(['payout_id']) }} as {{ type_varchar() }}) as payout_sk,
        cast(payout_id as {{ type_varchar() }}) as payout_id,
        {{ date_sk('arrival_date') }} as arrival_date_sk,
        cast(payout_status as {{ type_varchar() }}) as payout_status,
        cast(currency_code as {{ type_varchar() }}) as currency_code,
        cast(charge_count as integer) as charge_count,
        cast(gross_amount as numeric(18, 2)) as gross_amount,
        cast(fee_amount as numeric(18, 2)) as fee_amount,
        cast(net_amount as numeric(18, 2)) as net_amount,
        cast(fx_rate_per_eur as numeric(18, 6)) as fx_rate_per_eur,
        cast(fee_amount_eur as numeric(18, 2)) as fee_amount_eur,
        cast(net_amount_eur as numeric(18, 2)) as net_amount_eur,
        cast(covered_date as date) as covered_date,
        cast(arrival_date as date) as arrival_date,
        cast(created_at as timestamp) as created_at

    from payouts

)

select * from final
