{#- Custom schemas are used verbatim (staging, ods, core, ...) instead of dbt's default
    "<target schema>_<custom schema>", so that every environment has the same layout. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
