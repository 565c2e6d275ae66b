{#- Rows of a dlt-loaded raw table that belong to completed loads only: dlt writes a
    load's rows before it marks the load done (status 0) in _dlt_loads, so a half-finished
    load must stay invisible to the warehouse. -#}
{% macro completed_loads(source_name, table_name) -%}
    select *
    from {{ source(source_name, table_name) }}
    where _dlt_load_id in (
        select load_id
        from {{ source(source_name, '_dlt_loads') }}
        where status = 0
    )
{%- endmacro %}
