{#- An ISO 8601 text with any offset, or a timestamp with time zone, as a UTC timestamp
    without time zone. Sources mix offsets for the same instant, so everything is normalised
    to UTC. -#}
{% macro to_utc_timestamp(column_name) -%}
    {{ return(adapter.dispatch('to_utc_timestamp')(column_name)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(column_name) -%}
    cast(cast({{ column_name }} as timestamp with time zone) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- Spark's timestamp is an instant shown in the session's time zone (a text's offset is
    honoured by the cast); shifting it from that zone to UTC shows the UTC wall clock whatever
    the session's zone is. -#}
{% macro spark__to_utc_timestamp(column_name) -%}
    to_utc_timestamp(cast({{ column_name }} as timestamp), current_timezone())
{%- endmacro %}
