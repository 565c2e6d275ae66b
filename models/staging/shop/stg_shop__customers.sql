with

source as (

    {{ completed_loads('shop', 'customers') }}

),

renamed as (

    select
        cast(customer_id as bigint) as customer_id,
        -- the keyed hash is the only form of the email that leaves staging
        {{ hash_pii('cast(email as ' ~ warehouse_type('varchar') ~ ')') }} as email_hash,
        lower(trim(cast(email as {{ warehouse_type('varchar') }}))) as email,
        trim(cast(first_name as {{ warehouse_type('varchar') }})) as first_name,
        trim(cast(last_name as {{ warehouse_type('varchar') }})) as last_name,
        trim(cast(phone as {{ warehouse_type('varchar') }})) as phone,
        lower(trim(cast(segment as {{ warehouse_type('varchar') }}))) as segment,
        cast(marketing_consent as integer) = 1 as has_marketing_consent,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        {{ is_unknown_code('segment', 'customer_segment') }} as is_unknown_segment

    from renamed

)

select * from flagged
