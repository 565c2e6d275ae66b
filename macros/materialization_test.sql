{#- dbt's data test materialization, storing a test's failing rows only when it has some.
    dbt's own stores them (store_failures, on for this project) by writing a table in `audit`
    for every test of every build, replacing the one before, and counting its rows: on a daily
    build at scale factor 1 that cost 6 to 10 s of a 40 to 45 s build, for tables that were
    empty nearly every time. Here the test's count runs first; a test with failing rows (an
    error or a warning) writes them to `audit` as dbt would, and a test that passes drops the
    table an earlier failure left. `audit` holds the failing rows of each test's latest run,
    as before, and nothing for the tests that pass. -#}
{%- materialization test, default -%}

    {%- set relations = [] -%}
    {%- set limit = config.get('limit') -%}
    {%- set sql_header = config.get('sql_header') if flags.REQUIRE_SQL_HEADER_IN_TEST_CONFIGS else none -%}
    {%- set sql_with_limit -%}
        {{ get_limit_subquery_sql(sql, limit) }}
    {%- endset -%}

    {% call statement('main', fetch_result=True) -%}
        {% if sql_header %}{{ sql_header }}{% endif %}
        {{ get_test_sql(
            sql_with_limit,
            config.get('fail_calc'),
            config.get('warn_if'),
            config.get('error_if'),
            limit=none,
        ) }}
    {%- endcall %}

    {%- if should_store_failures() -%}
        {%- set store_failures_as = config.get('store_failures_as') or 'table' -%}
        {%- if store_failures_as not in ['table', 'view'] -%}
            {{ exceptions.raise_compiler_error(
                "'" ~ store_failures_as ~ "' is not a valid value for `store_failures_as`. "
                ~ "Accepted values are: ['ephemeral', 'table', 'view']"
            ) }}
        {%- endif -%}
        {%- set old_relation = adapter.get_relation(
            database=database, schema=schema, identifier=model['alias']
        ) -%}
        {%- if old_relation -%}
            {%- do adapter.drop_relation(old_relation) -%}
        {%- endif -%}
        {%- set failures = load_result('main')['table'].rows[0]['failures'] -%}
        {%- if failures is none or failures != 0 -%}
            {%- set target_relation = api.Relation.create(
                identifier=model['alias'],
                schema=schema,
                database=database,
                type=store_failures_as,
            ) -%}
            {% call statement('store_failures', auto_begin=True) %}
                {% if sql_header %}{{ sql_header }}{% endif %}
                {{ get_create_sql(target_relation, sql_with_limit) }}
            {% endcall %}
            {%- do relations.append(target_relation) -%}
        {%- endif -%}
        {{ adapter.commit() }}
    {%- endif -%}

    {{ return({'relations': relations}) }}

{%- endmaterialization -%}
