{#- Charges with the shop order they pay and their EUR amount at the day's rate. -#}
with

charges as (

    select * from {{ ref('stg_payments__charges') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

final as (

    select
        -- ids
        charges.charge_id as payment_id,
        orders.order_id,
        charges.order_number,
        orders.customer_id,
        charges.customer_email_hash,
        -- codes
        charges.charge_status as payment_status,
        charges.payment_method,
        -- amounts
        charges.amount,
        charges.currency_code,
        fx_rates.rate_per_eur as fx_rate_per_eur,
        {{ money('charges.amount / fx_rates.rate_per_eur') }} as amount_eur,
        charges.risk_score,
        -- flags
        charges.charge_status = 'succeeded' as is_succeeded,
        charges.is_unknown_status,
        charges.is_unknown_payment_method,
        -- dates and timestamps
        cast(charges.created_at as date) as created_date,
        charges.created_at,
        charges.updated_at

    from charges
    left join orders
        on charges.order_number = orders.order_number
    left join fx_rates
        on
            charges.currency_code = fx_rates.currency_code
            and cast(charges.created_at as date) = fx_rates.rate_date

)

select * from final
