{#- A snapshot's rows after a run, for a Spark table without MERGE (Parquet): what dbt's
    snapshot_merge_sql leaves in the table, written as one select so that the materialization
    (materialization_snapshot_spark) can store it beside the snapshot and swap it in.
    The semantics are dbt's update-then-insert of DuckDB and PostgreSQL (dbt-duckdb's and
    dbt-postgres's snapshot_merge_sql), so that the engines keep the same rows: a current row
    whose dbt_scd_id the staging relation marks update or delete gets the staging row's
    dbt_valid_to; every staging row marked insert is added, even one whose dbt_scd_id a closed
    row already has (a member back after a hard delete), where a MERGE would skip it. -#}
{% macro spark_snapshot_rebuild_sql(target, source) -%}
    {%- set columns = config.get("snapshot_table_column_names")
        or get_snapshot_table_column_names() -%}
    {%- set target_columns = adapter.get_columns_in_relation(target) -%}
    {%- set source_column_names = adapter.get_columns_in_relation(source)
        | map(attribute='name') | map('lower') | list -%}
    {%- set valid_to = adapter.quote(columns.dbt_valid_to) -%}
    {%- set scd_id = adapter.quote(columns.dbt_scd_id) -%}

    with

    snapshotted as (

        select * from {{ target }}

    ),

    staging as (

        select * from {{ source }}

    ),

    -- one row per version: dbt's update takes one staging row per target row, never more
    invalidations as (

        select
            {{ scd_id }},
            max({{ valid_to }}) as {{ valid_to }}
        from staging
        where dbt_change_type in ('update', 'delete')
        group by {{ scd_id }}

    ),

    kept as (

        select
            {%- for column in target_columns %}
            {%- set quoted = adapter.quote(column.name) %}
            {%- if column.name | lower == columns.dbt_valid_to | lower %}
            case
                when invalidations.{{ scd_id }} is not null
                    then invalidations.{{ valid_to }}
                else snapshotted.{{ quoted }}
            end as {{ quoted }}
            {%- else %}
            snapshotted.{{ quoted }}
            {%- endif %}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from snapshotted
        left join invalidations
            on snapshotted.{{ scd_id }} = invalidations.{{ scd_id }}
            {%- if config.get('dbt_valid_to_current') %}
            and (
                snapshotted.{{ valid_to }} = {{ config.get('dbt_valid_to_current') }}
                or snapshotted.{{ valid_to }} is null
            )
            {%- else %}
            and snapshotted.{{ valid_to }} is null
            {%- endif %}

    ),

    -- a column the source no longer has stays in the snapshot, empty in new versions
    inserted as (

        select
            {%- for column in target_columns %}
            {%- set quoted = adapter.quote(column.name) %}
            {%- if column.name | lower in source_column_names %}
            cast({{ quoted }} as {{ column.data_type }}) as {{ quoted }}
            {%- else %}
            cast(null as {{ column.data_type }}) as {{ quoted }}
            {%- endif %}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from staging
        where dbt_change_type = 'insert'

    )

    select * from kept
    union all
    select * from inserted

{%- endmacro %}
