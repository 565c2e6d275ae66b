{#- A keyed hash of a personal value (an email), so that marts can join on it without
    holding it. The key comes from an environment variable in production. -#}
{% macro hash_pii(column_name) -%}
    {{ dbt.hash(dbt.concat([
        "'" ~ env_var('WAREHOUSE_PII_HASH_KEY', 'larkspur-dev-key') ~ "'",
        "lower(trim(" ~ column_name ~ "))",
    ])) }}
{%- endmacro %}
