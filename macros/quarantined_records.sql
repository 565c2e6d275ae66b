{#- The quarantined records of one source's completed loads. The loader creates the table
    only once it has rejected a record, so a source without one yields no rows instead of
    failing the build. -#}
{% macro quarantined_records(source_name) -%}
    {%- set quarantine = source(source_name, 'quarantined_records') -%}
    {%- set existing = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=quarantine.database,
            schema=quarantine.schema,
            identifier=quarantine.identifier,
        ) -%}
    {%- endif -%}
    {%- if existing is not none %}
    select
        quarantine_id,
        source_table,
        reason,
        source_location,
        raw_payload,
        _dlt_load_id
    from ({{ completed_loads(source_name, 'quarantined_records') }}) as completed
    {%- else %}
    select
        cast(null as varchar) as quarantine_id,
        cast(null as varchar) as source_table,
        cast(null as varchar) as reason,
        cast(null as varchar) as source_location,
        cast(null as varchar) as raw_payload,
        cast(null as varchar) as _dlt_load_id
    where 1 = 0
    {%- endif %}
{%- endmacro %}
