{#- Where the first version of an SCD2 dimension member starts: before any fact, so that facts
    older than the first snapshot of their member still find a version. -#}
{% macro beginning_of_time() -%}
    cast('1900-01-01' as timestamp)
{%- endmacro %}
