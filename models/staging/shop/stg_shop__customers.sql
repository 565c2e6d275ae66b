with

source as (

    {{ completed_loads('shop', 'customers') }}

),

renamed as (

    select
        cast(customer_id as bigint) as customer_id,
        -- the keyed hash is the only form of the email that leaves staging
        {{ hash_pii('cast(email as ' ~ type_varchar() ~ ')') }} as email_hash,
        lower(trim(cast(email as {{ type_varchar() }}))) as email,
        trim(cast(first_name as {{ type_varchar() }})) as first_name,
        trim(cast(last_name as {{ type_varchar() }})) as last_name,
        trim(cast(phone as {{ type_varchar() }})) as phone,
        lower(trim(cast(segment as {{ type_varchar() }}))) as segment,
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
