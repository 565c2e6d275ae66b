{{
    config(
        materialized='incremental',
        unique_key='refund_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('refund_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one refund, in its currency and in EUR. Incremental: a run recomputes the refunds
    that a load since the last run touched and the refunds of the customers whose versions
    changed since. -#}
-- customers_snapshot is read only in incremental runs, to find whose versions changed
-- depends_on: {{ ref('customers_snapshot') }}
with

all_refunds as (

    select * from {{ ref('ods_refunds') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

refunds as (

    select *
    from all_refunds
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
        cast({{ generate_surrogate_key(['refunds.refund_id']) }} as {{ type_varchar() }})
            as refund_sk,
        cast(refunds.refund_id as {{ type_varchar() }}) as refund_id,
        cast({{ generate_surrogate_key(['refunds.payment_id']) }} as {{ type_varchar() }})
            as payment_sk,
        cast(refunds.payment_id as {{ type_varchar() }}) as payment_id,
        cast(refunds.order_id as bigint) as order_id,
        cast(coalesce(customers.customer_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as customer_sk,
        {{ date_sk('refunds.created_date') }} as refund_date_sk,
        cast(refunds.refund_reason as {{ type_varchar() }}) as refund_reason,
        cast(refunds.refund_status as {{ type_varchar() }}) as refund_status,
        cast(refunds.currency_code as {{ type_varchar() }}) as currency_code,
        cast(refunds.amount as numeric(18, 2)) as amount,
        cast(refunds.fx_rate_per_eur as numeric(18, 6)) as fx_rate_per_eur,
        cast(refunds.amount_eur as numeric(18, 2)) as amount_eur,
        cast(refunds.is_succeeded as boolean) as is_succeeded,
        cast(refunds.is_unknown_reason as boolean) as is_unknown_reason,
        cast(refunds.created_date as date) as refund_date,
        cast(refunds.created_at as timestamp) as created_at,
        cast(refunds._loaded_at as timestamp) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from refunds
    left join customers
        on
            refunds.customer_id = customers.customer_id
            and refunds.created_at >= customers.valid_from
            and (customers.valid_to is null or refunds.created_at < customers.valid_to)

)

{{ batch_with_rest_of_its_days('final') }}
