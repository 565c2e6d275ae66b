with

source as (

    {{ completed_loads('web', 'quarantined_records') }}

),

renamed as (

    select
        quarantine_id,
        'web' as source_system,
        lower(trim(source_table)) as source_table,
        -- reasons look like "<check>:<column>", e.g. null_required_field:order_number
        lower(trim(reason)) as reason,
        source_location,
        raw_payload,
        _dlt_load_id

    from source

),

deduplicated as (

    {{ deduplicate('renamed', 'quarantine_id', '_dlt_load_id desc') }}

)

select * from deduplicated
