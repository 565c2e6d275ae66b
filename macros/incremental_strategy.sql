{#- How every incremental model writes its batch, chosen per warehouse here and nowhere else:
    each model's config says `incremental_strategy=incremental_strategy()`, or
    `incremental_strategy(empties_keys=true)` when a run can leave a key with no rows at all
    (a web visitor whose every event was re-sent under another visitor). -#}
{% macro incremental_strategy(empties_keys=false) -%}
    {{ return(adapter.dispatch('incremental_strategy')(empties_keys)) }}
{%- endmacro %}

{#- DuckDB and PostgreSQL delete the held rows of the batch's keys (unique_key), then insert the
    batch; with empties_keys, by replace_keys below. -#}
{% macro default__incremental_strategy(empties_keys) -%}
    {{ return('replace_keys' if empties_keys else 'delete+insert') }}
{%- endmacro %}

{#- Spark on Parquet can neither delete nor merge: it overwrites. Without partition_by the
    overwrite replaces the whole table, so is_incremental() is false there and the batch is
    every row (a rebuild in place); with partition_by it replaces the batch's partitions. A model
    that empties keys has no partition_by: a rebuild has no key to empty. -#}
{% macro spark__incremental_strategy(empties_keys) -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- The strategy replace_keys: delete+insert, where a batch row whose `_loaded_at` is null (no
    load made it: see rows_or_emptied_keys) only names a key, whose held rows are deleted and
    which gets no row. delete+insert alone deletes only the keys the batch has rows for. -#}
{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    delete from {{ target }}
    where ({{ key }}) in (select {{ key }} from {{ batch }} where _loaded_at is null);

    delete from {{ batch }} where _loaded_at is null;

    {{ get_incremental_delete_insert_sql(arg_dict) }}
{%- endmacro %}

{#- The rows of `rows` (a CTE) for each key of `keys` (a query of the one column `key`), and
    for a key without any, one row holding only the key, which tells the strategy replace_keys
    to empty that key. `select *` over a join `using` the key gives the key column once. -#}
{% macro rows_or_emptied_keys(keys, rows, key) -%}
    select *
    from ({{ keys }}) as batch_keys
    left join {{ rows }} as batch_rows using ({{ key }})
{%- endmacro %}
