{#- Payouts with gross (net plus fees) and their EUR amounts at the arrival day's rate. A payout
    settles the charges and refunds that succeeded on one UTC day, the day the processor
    creates it (at 23:30), and arrives two business days later. -#}
with

payout_deliveries as (

    select * from {{ ref('stg_payments__payouts') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

payouts as (

    -- a payout re-sent (for example once paid) appears once per delivery: keep its latest state
    {{ deduplicate('payout_deliveries', 'payout_id', 'updated_at desc, _dlt_load_id desc') }}

),

final as (

    select
        payouts.payout_id,
        payouts.payout_status,
        payouts.charge_count,
        payouts.net_amount,
        payouts.fee_amount,
        payouts.net_amount + payouts.fee_amount as gross_amount,
        payouts.currency_code,
        fx_rates.rate_per_eur as fx_rate_per_eur,
        {{ money('payouts.net_amount / fx_rates.rate_per_eur') }} as net_amount_eur,
        {{ money('payouts.fee_amount / fx_rates.rate_per_eur') }} as fee_amount_eur,
        payouts.is_unknown_status,
        cast(payouts.created_at as date) as covered_date,
        payouts.arrival_date,
        payouts.created_at,
        payouts.updated_at

    from payouts
    left join fx_rates
        on
            payouts.currency_code = fx_rates.currency_code
            and payouts.arrival_date = fx_rates.rate_date

)

select * from final
