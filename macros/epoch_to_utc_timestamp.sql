{#- Unix epoch seconds as a UTC timestamp without time zone. -#}
{% macro epoch_to_utc_timestamp(column_name) -%}
    cast(to_timestamp(cast({{ column_name }} as bigint)) at time zone 'UTC' as timestamp)
{%- endmacro %}
