{#- The ISO 8601 day of the week of a date: 1 for Monday to 7 for Sunday. -#}
{% macro iso_day_of_week(date_column) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(date_column)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_column) -%}
    extract(isodow from {{ date_column }})
{%- endmacro %}

{% macro spark__iso_day_of_week(date_column) -%}
    extract(dayofweek_iso from {{ date_column }})
{%- endmacro %}
