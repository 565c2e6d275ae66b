{#- A data type of the project's vocabulary (the PostgreSQL names its YAML declares: varchar,
    double precision, timestamp with time zone, numeric(p, s), ...) as the warehouse spells
    it. The YAML keeps one spelling for every warehouse; this is where they differ. -#}
{% macro warehouse_type(type_name) -%}
    {{ return(adapter.dispatch('warehouse_type')(type_name)) }}
{%- endmacro %}

{#- PostgreSQL and DuckDB take the vocabulary as it is. -#}
{% macro default__warehouse_type(type_name) -%}
    {{ return(type_name) }}
{%- endmacro %}

{#- Spark has no unbounded varchar and no double precision; its timestamp is an instant shown
    in the session's time zone, which the models keep in UTC (macro to_utc_timestamp). -#}
{% macro spark__warehouse_type(type_name) -%}
    {%- set spark_names = {
        'varchar': 'string',
        'text': 'string',
        'double precision': 'double',
        'timestamp with time zone': 'timestamp',
        'timestamptz': 'timestamp',
    } -%}
    {{ return(spark_names.get(type_name | trim | lower, type_name)) }}
{%- endmacro %}
