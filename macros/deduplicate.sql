{#- One row per key of a relation or CTE: the first by order_by. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('deduplicate')(relation, partition_by, order_by)) }}
{%- endmacro %}

{#- DuckDB and PostgreSQL both support distinct on, which keeps the column list intact;
    adapters without it need their own implementation. -#}
{% macro default__deduplicate(relation, partition_by, order_by) -%}
    select distinct on ({{ partition_by }}) *
    from {{ relation }}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}
