{#- dbt's own not_null test, tagged `not_null`. dbt can select tests by name (test_name:not_null)
    but Cosmos, which renders the build for Airflow, selects by tag: with the tag, a daily build
    and the DAG leave out the same tests, those of the marts' columns whose not_null constraint
    the warehouse enforces on every write (DAILY_BUILD_EXCLUDE in warehouse/dbt.py). -#}
{% test not_null(model, column_name) %}
    {{ config(tags=['not_null']) }}
    {{ adapter.dispatch('test_not_null', 'dbt')(model, column_name) }}
{% endtest %}
