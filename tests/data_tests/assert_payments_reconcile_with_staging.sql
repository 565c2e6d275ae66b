-- Charges and refunds in the finance marts equal the processor's per currency within a cent.
-- Staging holds every delivery of a charge or refund; the latest state of each counts,
-- deduplicated here as the ODS does, so that the check does not rely on the models it checks.
-- A daily run checks the charges and refunds it wrote (macro in_keys_written_by_this_run).
with

charge_deliveries as (

    select * from {{ ref('stg_payments__charges') }}
    where {{ in_keys_written_by_this_run('charge_id', ref('fct_payments'), 'payment_id') }}

),

refund_deliveries as (

    select * from {{ ref('stg_payments__refunds') }}
    where {{ in_keys_written_by_this_run('refund_id', ref('fct_refunds'), 'refund_id') }}

),

charges as (

    {{ deduplicate('charge_deliveries', 'charge_id', 'updated_at desc, _dlt_load_id desc') }}

),

refunds as (

    {{ deduplicate('refund_deliveries', 'refund_id', 'updated_at desc, _dlt_load_id desc') }}

),

mart_payments as (

    select
        'charges' as record_kind,
        currency_code,
        sum(amount) as amount
    from {{ ref('fct_payments') }}
    where {{ in_keys_written_by_this_run('payment_id', ref('fct_payments'), 'payment_id') }}
    group by currency_code

),

mart_refunds as (

    select
        'refunds' as record_kind,
        currency_code,
        sum(amount) as amount
    from {{ ref('fct_refunds') }}
    where {{ in_keys_written_by_this_run('refund_id', ref('fct_refunds'), 'refund_id') }}
    group by currency_code

),

staging_charges as (

    select
        'charges' as record_kind,
        currency_code,
        sum(amount) as amount
    from charges
    group by currency_code

),

staging_refunds as (

    select
        'refunds' as record_kind,
        currency_code,
        sum(amount) as amount
    from refunds
    group by currency_code

),

mart as (

    select * from mart_payments
    union all
    select * from mart_refunds

),

staging as (

    select * from staging_charges
    union all
    select * from staging_refunds

)

select
    coalesce(staging.record_kind, mart.record_kind) as record_kind,
    coalesce(staging.currency_code, mart.currency_code) as currency_code,
    staging.amount as staging_amount,
    mart.amount as mart_amount
from staging
full outer join mart
    on
        staging.record_kind = mart.record_kind
        and staging.currency_code = mart.currency_code
where abs(coalesce(staging.amount, 0) - coalesce(mart.amount, 0)) >= 0.01
