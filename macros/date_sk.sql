{#- The key of a day in dim_date: the date as the integer yyyymmdd. -#}
{% macro date_sk(date_expression) -%}
    cast(
        extract(year from {{ date_expression }}) * 10000
        + extract(month from {{ date_expression }}) * 100
        + extract(day from {{ date_expression }})
        as integer
    )
{%- endmacro %}
