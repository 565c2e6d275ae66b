{#- Run before every build (on-run-start): hash_pii() reads its key from pii_keys.hash_key. -#}
{% macro ensure_pii_hash_key() -%}
    {{ return(adapter.dispatch('ensure_pii_hash_key')()) }}
{%- endmacro %}

{#- A production warehouse (PostgreSQL) gets that table from
    `warehouse.postgres.install_pii_hash_key` (the key comes from WAREHOUSE_PII_HASH_KEY); a
    missing table stops the run rather than hash with a key anyone can read. -#}
{% macro default__ensure_pii_hash_key() %}
    {%- if execute -%}
        {%- set key_table = adapter.get_relation(
            database=target.database, schema='pii_keys', identifier='hash_key'
        ) -%}
        {%- if key_table is none -%}
            {{ exceptions.raise_compiler_error(
                "the PII hash key table pii_keys.hash_key is missing in database "
                ~ target.database ~ ": set WAREHOUSE_PII_HASH_KEY and run "
                ~ "warehouse.postgres.install_pii_hash_key (`warehouse demo --target postgres`"
                ~ " does it) as the database administrator"
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- DuckDB, the local development warehouse, falls back to a published development key so
    that `make demo` works without setup: its hashes protect nothing, which is why production
    runs on PostgreSQL. -#}
{% macro duckdb__ensure_pii_hash_key() %}
    create schema if not exists pii_keys;
    create table if not exists pii_keys.hash_key as
    select 'larkspur-development-key-not-a-secret' as hash_key
{% endmacro %}

{#- A Spark lake, like DuckDB, is a development warehouse without roles: the same published
    development key, one statement at a time (Spark runs one per call). -#}
{% macro spark__ensure_pii_hash_key() %}
    {%- if execute -%}
        {%- do run_query('create schema if not exists pii_keys') -%}
        {%- do run_query(
            "create table if not exists pii_keys.hash_key as"
            ~ " select 'larkspur-development-key-not-a-secret' as hash_key"
        ) -%}
    {%- endif -%}
{% endmacro %}
