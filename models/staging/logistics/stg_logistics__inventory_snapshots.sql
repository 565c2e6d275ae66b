with

source as (

    {{ completed_loads('logistics', 'inventory_snapshots') }}

),

renamed as (

    select
        upper(trim(cast(warehouse_code as {{ type_varchar() }}))) as warehouse_code,
        upper(trim(cast(sku as {{ type_varchar() }}))) as sku,
        cast(on_hand_qty as integer) as on_hand_qty,
        cast(reserved_qty as integer) as reserved_qty,
        cast(inbound_qty as integer) as inbound_qty,
        cast(snapshot_date as date) as snapshot_date,
        _dlt_load_id,
        _loaded_at

    from source

)

select * from renamed
