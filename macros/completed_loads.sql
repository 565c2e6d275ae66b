{#- Rows of a dlt-loaded raw table that belong to completed loads only: dlt writes a
    load's rows before it marks the load done (status 0) in _dlt_loads, so a half-finished
    load must stay invisible to the warehouse. Each row gets `_loaded_at`, the time its load was
    marked done, which incremental models keep as their watermark (macro last_loaded_at). dlt creates a table only once a record for it
    arrives, so until then this yields an empty relation typed by the columns (with their
    data_type) declared for the table in the source's YAML, and the build goes on. -#}
{% macro completed_loads(source_name, table_name) -%}
    {%- set raw_table = source(source_name, table_name) -%}
    {%- set existing = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=raw_table.database,
            schema=raw_table.schema,
            identifier=raw_table.identifier,
        ) -%}
    {%- endif -%}
    {%- if existing is not none or not execute %}
    select
        raw_rows.*,
        {{ to_utc_timestamp('loads.inserted_at') }} as _loaded_at
    from {{ raw_table }} as raw_rows
    inner join {{ source(source_name, '_dlt_loads') }} as loads
        on raw_rows._dlt_load_id = loads.load_id
    where loads.status = 0
    {%- else %}
    {{ empty_source_table(source_name, table_name) }}
    {%- endif %}
{%- endmacro %}

{#- No rows, with the columns and types the source's YAML declares for the table. -#}
{% macro empty_source_table(source_name, table_name) -%}
    {%- set declared = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | first -%}
    {%- set columns = declared.columns.values() | list -%}
    {%- for column in columns if not column.data_type -%}
        {{ exceptions.raise_compiler_error(
            'source ' ~ source_name ~ '.' ~ table_name ~ ': column ' ~ column.name
            ~ ' has no data_type; declare it in the source YAML'
        ) }}
    {%- endfor -%}
    {%- if not columns -%}
        {{ exceptions.raise_compiler_error(
            'raw table ' ~ source_name ~ '.' ~ table_name ~ ' does not exist yet and its source'
            ~ ' YAML declares no columns to stand in for it; list them with their data_type'
        ) }}
    {%- endif %}
    select
        {%- for column in columns %}
            cast(null as {{ warehouse_type(column.data_type) }}) as {{ column.name }},
        {%- endfor %}
        cast(null as timestamp) as _loaded_at
    where 1 = 0
{%- endmacro %}
