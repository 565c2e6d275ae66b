{#- How every incremental model writes its batch, chosen per warehouse here and nowhere else:
    each model's config says `incremental_strategy=incremental_strategy()`. -#}
{% macro incremental_strategy() -%}
    {{ return(adapter.dispatch('incremental_strategy')()) }}
{%- endmacro %}

{#- DuckDB and PostgreSQL delete the held rows of the batch's keys (unique_key), then insert the
    batch. -#}
{% macro default__incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{#- Spark on Parquet can neither delete nor merge: it overwrites. Without partition_by the
    overwrite replaces the whole table, so is_incremental() is false there and the batch is
    every row (a rebuild in place); with partition_by it replaces the batch's partitions. -#}
{% macro spark__incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}
