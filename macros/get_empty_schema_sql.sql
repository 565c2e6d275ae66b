{#- dbt checks an enforced contract by casting null to each data type the model's YAML
    declares; on Spark those types go through warehouse_type first, so that the contracts keep
    one spelling (varchar) for every warehouse. DuckDB and PostgreSQL use dbt's own macro. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set spark_column = column.copy() -%}
        {%- if column.get('data_type') -%}
            {%- do spark_column.update({'data_type': warehouse_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: spark_column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{%- endmacro %}
