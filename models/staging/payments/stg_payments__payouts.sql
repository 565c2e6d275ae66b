with

source as (

    {{ completed_loads('payments', 'payouts') }}

),

renamed as (

    select
        cast(id as {{ type_varchar() }}) as payout_id,
        lower(trim(cast(status as {{ type_varchar() }}))) as payout_status,
        upper(trim(cast(currency as {{ type_varchar() }}))) as currency_code,
        {{ minor_units_to_amount('amount') }} as net_amount,
        {{ minor_units_to_amount('fee_amount') }} as fee_amount,
        cast(charge_count as integer) as charge_count,
        cast(arrival_date as date) as arrival_date,
        {{ epoch_to_utc_timestamp('created') }} as created_at,
        {{ epoch_to_utc_timestamp('updated') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        {{ is_unknown_code('payout_status', 'payout_status') }} as is_unknown_status

    from renamed

)

select * from flagged
