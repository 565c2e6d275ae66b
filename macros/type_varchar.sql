{#- The text type that the contracts declare as varchar, for casts in models:
    `cast(x as {{ type_varchar() }})`. Like dbt's type_string(), but varchar on PostgreSQL
    (dbt's is text, which a contract's varchar would not match). -#}
{% macro type_varchar() -%}
    {{ return(warehouse_type('varchar')) }}
{%- endmacro %}
