{#- One row per key of a relation or CTE: the first by order_by. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('deduplicate')(relation, partition_by, order_by)) }}
{%- endmacro %}

{#- Warehouses with qualify (Snowflake, BigQuery, Databricks, Redshift, DuckDB) filter on the
    row number without adding it to the columns. -#}
{% macro default__deduplicate(relation, partition_by, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (partition by {{ partition_by }} order by {{ order_by }}) = 1
{%- endmacro %}

{#- PostgreSQL has no qualify; its distinct on keeps the column list intact. -#}
{% macro postgres__deduplicate(relation, partition_by, order_by) -%}
    select distinct on ({{ partition_by }}) *
    from {{ relation }}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}

{#- DuckDB has both; distinct on keeps the row PostgreSQL keeps when two rows tie on order_by,
    so that both warehouses build the same tables. -#}
{% macro duckdb__deduplicate(relation, partition_by, order_by) -%}
    {{ return(postgres__deduplicate(relation, partition_by, order_by)) }}
{%- endmacro %}
