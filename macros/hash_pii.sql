{#- A keyed hash of a personal value (an email, an address), so that models beyond staging can
    join on it without holding it. The key is read from the one-row table pii_keys.hash_key at
    query time, never written into the SQL: compiled models and dbt's logs do not contain it. -#}
{% macro hash_pii(column_name) -%}
    {{ dbt.hash(dbt.concat([
        "(select hash_key from pii_keys.hash_key)",
        "lower(trim(" ~ column_name ~ "))",
    ])) }}
{%- endmacro %}
