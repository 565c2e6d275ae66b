{#- dbt reads the relation a generic data test checks through this macro (it replaces dbt's
    own). Besides the test's `where` config, a test of an incremental model checks only the
    rows this invocation wrote, and a test of a staging view only the rows of loads that the
    incremental models reading it process in this build: a daily run tests a day's rows, a full
    refresh every row. With var test_all_rows (`warehouse build --full`) every test reads every
    row, and so do the tests that compare whole tables (equal_rowcount), whatever the run. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if execute and not var('test_all_rows', false) -%}
        {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
        {%- set compares_whole_tables = model.test_metadata.name in ['equal_rowcount'] -%}
        {%- if tested and not compares_whole_tables -%}
            {%- if tested.config.materialized == 'incremental' -%}
                {%- do conditions.append(written_by_this_run()) -%}
            {%- elif tested.config.materialized == 'view' and '_loaded_at' in tested.columns -%}
                {%- set new_loads = loaded_since_readers_last_run(tested) -%}
                {%- if new_loads -%}
                    {%- do conditions.append(new_loads) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
