with

source as (

    {{ completed_loads('shop', 'order_status_history') }}

),

renamed as (

    select
        cast(status_history_id as bigint) as status_history_id,
        cast(order_id as bigint) as order_id,
        lower(trim(cast(status as {{ type_varchar() }}))) as order_status,
        {{ to_utc_timestamp('changed_at') }} as changed_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        {{ is_unknown_code('order_status', 'order_status') }} as is_unknown_order_status

    from renamed

)

select * from flagged
