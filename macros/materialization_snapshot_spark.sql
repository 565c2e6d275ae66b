{#- dbt-spark's snapshot materialization (dbt-spark 1.11), which accepts a plain Parquet table.
    dbt-spark refuses any snapshot whose table is not Delta, Iceberg or Hudi, because it
    applies the changes with MERGE; Larkspur's Spark lake (#16) has none of those formats (their
    jars come from Maven, which it cannot reach), so its snapshots are Parquet like its models.
    On such a table the changes are applied as a rebuild (macro spark_snapshot_rebuild_sql):
    the snapshot's rows with the changes applied are written to a table beside it, which then
    overwrites the snapshot (Spark refuses to overwrite a table that the same statement reads).
    The rows are those dbt's update-then-insert gives on DuckDB and PostgreSQL; a Delta, Iceberg
    or Hudi table still gets dbt-spark's MERGE. Everything else is dbt-spark's, unchanged, but
    for its refusal of an existing table in another format, which the rebuild handles too.
    DuckDB and PostgreSQL keep dbt's own snapshot: this materialization is Spark's only. -#}
{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}

  {%- set strategy_name = config.get('strategy') -%}
  {%- set unique_key = config.get('unique_key') %}
  {%- set file_format = config.get('file_format') or 'parquet' -%}
  {%- set grant_config = config.get('grants') -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {#- dbt-spark raises here unless file_format is delta, iceberg or hudi: parquet is the one
      other format this materialization writes, by rebuilding. -#}
  {%- set merge_formats = ['delta', 'iceberg', 'hudi'] -%}
  {%- if file_format not in merge_formats + ['parquet'] -%}
    {% set invalid_format_msg -%}
      Invalid file format: {{ file_format }}
      Snapshot functionality requires file_format be set to 'delta', 'iceberg', 'hudi' or 'parquet'
    {%- endset %}
    {% do exceptions.raise_compiler_error(invalid_format_msg) %}
  {% endif %}
  {%- set can_merge = target_relation.is_delta or target_relation.is_iceberg
      or target_relation.is_hudi -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% set final_sql = create_table_as(False, target_relation, build_sql) %}

  {% else %}

      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}

      {{ adapter.valid_snapshot_target(target_relation, columns) }}

      {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}

      -- this may no-op if the database does not require column expansion
      {% do adapter.expand_target_column_types(from_relation=staging_table,
                                               to_relation=target_relation) %}

      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'equalto', 'dbt_change_type')
                                   | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                   | rejectattr('name', 'equalto', 'dbt_unique_key')
                                   | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                   | list %}

      {% do create_columns(target_relation, missing_columns) %}

      {% if can_merge %}

          {% set source_columns = adapter.get_columns_in_relation(staging_table)
                                       | rejectattr('name', 'equalto', 'dbt_change_type')
                                       | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                       | rejectattr('name', 'equalto', 'dbt_unique_key')
                                       | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                       | list %}

          {% set quoted_source_columns = [] %}
          {% for column in source_columns %}
            {% do quoted_source_columns.append(adapter.quote(column.name)) %}
          {% endfor %}

          {% set final_sql = snapshot_merge_sql(
                target = target_relation,
                source = staging_table,
                insert_cols = quoted_source_columns
             )
          %}

      {% else %}

          {%- set rebuild_relation = target_relation.incorporate(
                  path={'identifier': target_table ~ '__dbt_rebuild'}) -%}
          {% do adapter.drop_relation(rebuild_relation) %}
          {% call statement('build_snapshot_rebuild_relation') %}
              {{ create_table_as(False, rebuild_relation,
                                 spark_snapshot_rebuild_sql(target_relation, staging_table)) }}
          {% endcall %}
          {% set final_sql %}
              insert overwrite table {{ target_relation }}
              select * from {{ rebuild_relation }}
          {% endset %}

      {% endif %}

  {% endif %}

  {% call statement('main') %}
      {{ final_sql }}
  {% endcall %}

  {% if rebuild_relation is defined %}
      {% do adapter.drop_relation(rebuild_relation) %}
  {% endif %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {% if staging_table is defined %}
      {% do post_snapshot(staging_table) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
