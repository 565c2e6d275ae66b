{#- Refunds with the charge and order they refund and their EUR amount at the day's rate. -#}
with

refund_deliveries as (

    select * from {{ ref('stg_payments__refunds') }}

),

payments as (

    select * from {{ ref('ods_payments') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

refunds as (

    -- a refund re-sent on a later page appears twice: keep its latest state
    {{ deduplicate('refund_deliveries', 'refund_id', 'updated_at desc, _dlt_load_id desc') }}

),

final as (

    select
        -- ids
        refunds.refund_id,
        refunds.charge_id as payment_id,
        payments.order_id,
        payments.order_number,
        payments.customer_id,
        -- codes
        refunds.refund_reason,
        refunds.refund_status,
        payments.payment_method,
        -- amounts
        refunds.amount,
        refunds.currency_code,
        fx_rates.rate_per_eur as fx_rate_per_eur,
        {{ money('refunds.amount / fx_rates.rate_per_eur') }} as amount_eur,
        -- flags
        refunds.refund_status = 'succeeded' as is_succeeded,
        refunds.is_unknown_reason,
        refunds.is_unknown_status,
        -- dates and timestamps
        cast(refunds.created_at as date) as created_date,
        refunds.created_at,
        refunds.updated_at

    from refunds
    left join payments
        on refunds.charge_id = payments.payment_id
    left join fx_rates
        on
            refunds.currency_code = fx_rates.currency_code
            and cast(refunds.created_at as date) = fx_rates.rate_date

)

select * from final
