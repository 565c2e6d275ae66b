{#- A column of a source table that appears only from some day on (a schema change): the
    column where it exists, a typed null before it does, so the model builds either way. -#}
{% macro column_or_null(relation, column_name, data_type) -%}
    {%- set column_names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do column_names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if column_name | lower in column_names -%}
        cast({{ column_name }} as {{ warehouse_type(data_type) }})
    {%- else -%}
        cast(null as {{ warehouse_type(data_type) }})
    {%- endif -%}
{%- endmacro %}
