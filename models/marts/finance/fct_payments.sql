{{
    config(
        materialized='incremental',
        unique_key='payment_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('payment_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one charge (payment attempt), in its currency and in EUR. Incremental: a run
    recomputes the charges that a load since the last run touched and the charges of the
    customers whose versions changed since (a new version takes over the charges made after
    it starts). -#}
-- customers_snapshot is read only in incremental runs, to find whose versions changed
-- depends_on: {{ ref('customers_snapshot') }}
with

all_payments as (

    select * from {{ ref('ods_payments') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

payments as (

    select *
    from all_payments
    {%- if is_incremental() %}
        where
            {{ loaded_since_last_run() }}
            or customer_id in (
                {{ scd2_keys_changed_since_last_run(
                    ref('customers_snapshot'), ref('dim_customer'), 'customer_id'
                ) }}
            )
    {%- endif %}

),

final as (

    select
        cast({{ generate_surrogate_key(['payments.payment_id']) }} as {{ type_varchar() }})
            as payment_sk,
        cast(payments.payment_id as {{ type_varchar() }}) as payment_id,
        cast(payments.order_id as bigint) as order_id,
        cast(payments.order_number as {{ type_varchar() }}) as order_number,
        cast(coalesce(customers.customer_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as customer_sk,
        {{ date_sk('payments.created_date') }} as payment_date_sk,
        cast(payments.payment_method as {{ type_varchar() }}) as payment_method,
        cast(payments.payment_status as {{ type_varchar() }}) as payment_status,
        cast(payments.currency_code as {{ type_varchar() }}) as currency_code,
        cast(payments.amount as numeric(18, 2)) as amount,
        cast(payments.fx_rate_per_eur as numeric(18, 6)) as fx_rate_per_eur,
        cast(payments.amount_eur as numeric(18, 2)) as amount_eur,
        cast(payments.risk_score as integer) as risk_score,
        cast(payments.is_succeeded as boolean) as is_succeeded,
        cast(payments.is_unknown_status as boolean) as is_unknown_status,
        cast(payments.created_date as date) as payment_date,
        cast(payments.created_at as timestamp) as created_at,
        cast(payments._loaded_at as timestamp) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from payments
    left join customers
        on
            payments.customer_id = customers.customer_id
            and payments.created_at >= customers.valid_from
            and (customers.valid_to is null or payments.created_at < customers.valid_to)

)

{{ batch_with_rest_of_its_days('final') }}
