{#- dbt's is_incremental(), except for a model whose strategy overwrites its whole table
    (insert_overwrite without partition_by, Spark's, see incremental_strategy): its batch must
    hold every row, as in a full refresh, or the overwrite would drop the rows it left out. The
    macros of incremental_batch.sql and the models all ask this one. -#}
{% macro is_incremental() -%}
    {%- if config.get('incremental_strategy') == 'insert_overwrite'
        and not config.get('partition_by') -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{%- endmacro %}
