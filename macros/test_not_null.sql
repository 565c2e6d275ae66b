{#- dbt's own not_null test, tagged `not_null`: a daily build leaves out those of the marts,
    whose columns' not_null constraint the warehouse enforces on every write
    (DAILY_BUILD_EXCLUDE in warehouse/dbt.py). A tag, not dbt's test_name method, because
    Cosmos, which renders the project for Airflow, selects by tag and not by test name. -#}
{% test not_null(model, column_name) %}
    {{ config(tags=['not_null']) }}
    {{ adapter.dispatch('test_not_null', 'dbt')(model, column_name) }}
{% endtest %}
