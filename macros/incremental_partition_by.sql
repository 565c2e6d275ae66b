{#- The partition column of an incremental model where its warehouse's strategy overwrites
    partitions (Spark's insert_overwrite, see incremental_strategy): a day that never changes
    for a key, so that a batch of whole days replaces exactly the rows it recomputes. None
    elsewhere: delete+insert needs no partitions. -#}
{% macro incremental_partition_by(column_name) -%}
    {{ return(adapter.dispatch('incremental_partition_by')(column_name)) }}
{%- endmacro %}

{% macro default__incremental_partition_by(column_name) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__incremental_partition_by(column_name) -%}
    {{ return(column_name) }}
{%- endmacro %}
