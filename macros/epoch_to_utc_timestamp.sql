{#- Unix epoch seconds as a UTC timestamp without time zone. -#}
{% macro epoch_to_utc_timestamp(column_name) -%}
    {{ return(adapter.dispatch('epoch_to_utc_timestamp')(column_name)) }}
{%- endmacro %}

{% macro default__epoch_to_utc_timestamp(column_name) -%}
    cast(to_timestamp(cast({{ column_name }} as bigint)) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- As spark__to_utc_timestamp: the instant, shown as the UTC wall clock. -#}
{% macro spark__epoch_to_utc_timestamp(column_name) -%}
    to_utc_timestamp(timestamp_seconds(cast({{ column_name }} as bigint)), current_timezone())
{%- endmacro %}
