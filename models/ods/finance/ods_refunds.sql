{{
    config(
        materialized='incremental',
        unique_key='refund_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('created_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Refunds with the charge and order they refund and their EUR amount at the day's rate; one
    row per refund, its latest state (a refund re-sent on a later page appears twice in
    staging). Incremental: a run recomputes each refund that a load since the last run touched:
    the refund itself, the charge it refunds (or that charge's order) or its day's rate. -#}
with

all_refunds as (

    select * from {{ ref('stg_payments__refunds') }}

),

payments as (

    select * from {{ ref('ods_payments') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

{%- if is_incremental() %}

touched_refunds as (

    {{ keys_loaded_since_last_run(ref('stg_payments__refunds'), 'refund_id') }}
    union
    select held.refund_id
    from {{ this }} as held
    inner join payments
        on held.payment_id = payments.payment_id
    where {{ loaded_since_last_run('payments._loaded_at') }}
    union
    {{ held_keys_whose_rate_loaded_since_last_run('refund_id', 'created_date') }}

),

{%- endif %}

touched_refund_versions as (

    select *
    from all_refunds
    {%- if is_incremental() %}
        where all_refunds.refund_id in (select touched_refunds.refund_id from touched_refunds)
    {%- endif %}

),

refunds as (

    {{ deduplicate(
        'touched_refund_versions', 'refund_id', 'updated_at desc, _dlt_load_id desc'
    ) }}

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
        refunds.updated_at,
        refunds._dlt_load_id,
        -- the newest load among the refund's, its charge's and its rate's
        greatest(
            refunds._loaded_at,
            coalesce(payments._loaded_at, refunds._loaded_at),
            coalesce(fx_rates._loaded_at, refunds._loaded_at)
        ) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from refunds
    left join payments
        on refunds.charge_id = payments.payment_id
    left join fx_rates
        on
            refunds.currency_code = fx_rates.currency_code
            and cast(refunds.created_at as date) = fx_rates.rate_date

)

{{ batch_with_rest_of_its_days('final') }}
