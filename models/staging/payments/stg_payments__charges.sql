with

source as (

    {{ completed_loads('payments', 'charges') }}

),

renamed as (

    select
        -- ids
        cast(id as {{ type_varchar() }}) as charge_id,
        upper(trim(cast(order_number as {{ type_varchar() }}))) as order_number,
        {{ hash_pii('cast(customer_email as ' ~ type_varchar() ~ ')') }} as customer_email_hash,
        lower(trim(cast(customer_email as {{ type_varchar() }}))) as customer_email,
        -- codes
        lower(trim(cast(status as {{ type_varchar() }}))) as charge_status,
        lower(trim(cast(payment_method as {{ type_varchar() }}))) as payment_method,
        upper(trim(cast(currency as {{ type_varchar() }}))) as currency_code,
        -- amounts: the API sends minor units
        {{ minor_units_to_amount('amount') }} as amount,
        -- risk_score exists only from the processor's schema change on
        {{ column_or_null(source('payments', 'charges'), 'risk_score', 'integer') }}
            as risk_score,
        -- timestamps
        {{ epoch_to_utc_timestamp('created') }} as created_at,
        {{ epoch_to_utc_timestamp('updated') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    -- a charge with a status the processor does not document lands and does not count as
    -- succeeded (only `succeeded` moves money); its status is kept and flagged
    select
        *,
        {{ is_unknown_code('charge_status', 'charge_status') }} as is_unknown_status,
        {{ is_unknown_code('payment_method', 'payment_method') }} as is_unknown_payment_method

    from renamed

)

select * from flagged
