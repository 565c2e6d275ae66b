{{
    config(
        materialized='incremental',
        unique_key='payment_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('created_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Charges with the shop order they pay and their EUR amount at the day's rate; one row per
    charge, its latest state (a charge re-sent on a later page appears twice in staging).
    Incremental: a run recomputes each charge that a load since the last run touched: the
    charge itself, the order its number finds (which may arrive after the charge) or its day's
    rate. -#}
with

all_charges as (

    select * from {{ ref('stg_payments__charges') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

{%- if is_incremental() %}

touched_charges as (

    {{ keys_loaded_since_last_run(ref('stg_payments__charges'), 'charge_id') }}
    union
    select held.payment_id
    from {{ this }} as held
    inner join orders
        on held.order_number = orders.order_number
    where {{ loaded_since_last_run('orders._loaded_at') }}
    union
    {{ held_keys_whose_rate_loaded_since_last_run('payment_id', 'created_date') }}

),

{%- endif %}

touched_charge_versions as (

    select *
    from all_charges
    {%- if is_incremental() %}
        where all_charges.charge_id in (select touched_charges.charge_id from touched_charges)
    {%- endif %}

),

charges as (

    {{ deduplicate(
        'touched_charge_versions', 'charge_id', 'updated_at desc, _dlt_load_id desc'
    ) }}

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
        charges.updated_at,
        charges._dlt_load_id,
        -- the newest load among the charge's, its order's and its rate's
        greatest(
            charges._loaded_at,
            coalesce(orders._loaded_at, charges._loaded_at),
            coalesce(fx_rates._loaded_at, charges._loaded_at)
        ) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from charges
    left join orders
        on charges.order_number = orders.order_number
    left join fx_rates
        on
            charges.currency_code = fx_rates.currency_code
            and cast(charges.created_at as date) = fx_rates.rate_date

)

{{ batch_with_rest_of_its_days('final') }}
