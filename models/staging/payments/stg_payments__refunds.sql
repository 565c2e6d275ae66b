with

source as (

    {{ completed_loads('payments', 'refunds') }}

),

renamed as (

    select
        cast(id as {{ type_varchar() }}) as refund_id,
        cast(charge_id as {{ type_varchar() }}) as charge_id,
        lower(trim(cast(reason as {{ type_varchar() }}))) as refund_reason,
        lower(trim(cast(status as {{ type_varchar() }}))) as refund_status,
        upper(trim(cast(currency as {{ type_varchar() }}))) as currency_code,
        {{ minor_units_to_amount('amount') }} as amount,
        {{ epoch_to_utc_timestamp('created') }} as created_at,
        {{ epoch_to_utc_timestamp('updated') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    -- a refund with a code the processor does not document is still money returned: the code
    -- is kept and flagged
    select
        *,
        {{ is_unknown_code('refund_reason', 'refund_reason') }} as is_unknown_reason,
        {{ is_unknown_code('refund_status', 'refund_status') }} as is_unknown_status

    from renamed

)

select * from flagged
