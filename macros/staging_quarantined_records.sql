{#- The whole staging model over a source's quarantine table (raw_<source>.quarantined_records):
    every source's loader writes the same columns there, so every source's model is the same
    but for the source's name. -#}
{% macro staging_quarantined_records(source_name) -%}
with

source as (

    {{ completed_loads(source_name, 'quarantined_records') }}

),

renamed as (

    select
        quarantine_id,
        '{{ source_name }}' as source_system,
        lower(trim(source_table)) as source_table,
        -- reasons look like "<check>:<column>", e.g. null_required_field:order_number
        lower(trim(reason)) as reason,
        source_location,
        raw_payload,
        _dlt_load_id,
        _loaded_at

    from source

)

select * from renamed
{%- endmacro %}
