{#- How an incremental model finds what a run must (re)process: the loads completed since the
    newest load it holds. `_loaded_at` is the time dlt marked a row's load complete
    (`_dlt_loads.inserted_at`, see completed_loads), so a load resumed after a failure counts as
    new when it finally completes, although its load id (the time it started) is older. -#}

{#- The completion time of the newest load this model holds; before any, the beginning of time.
    In a full refresh or a first run nothing is held and every row is new; so it is when the
    held table predates `_loaded_at` (on_schema_change='append_new_columns' then adds it). A unit
    test gives the held rows as an input (`this`), with the column. -#}
{% macro last_loaded_at() -%}
    {%- if not is_incremental() -%}
        {{ beginning_of_time() }}
    {%- elif model.resource_type == 'unit_test' -%}
        {#- the held rows are the test's input, which only the query can read -#}
        (select coalesce(max(held._loaded_at), {{ beginning_of_time() }}) from {{ this }} as held)
    {%- elif '_loaded_at' in adapter.get_columns_in_relation(this)
        | map(attribute='name') | map('lower') | list -%}
        {{ newest_load_held(this) }}
    {%- else -%}
        {{ beginning_of_time() }}
    {%- endif -%}
{%- endmacro %}

{#- The completion time of the newest load whose rows `relation` (a table with `_loaded_at`)
    holds, as a timestamp literal read when the node runs; for an empty table, the beginning of
    time. A literal and not a scalar subquery: the warehouse pushes a comparison with a value
    down to the completed loads and skips the raw rows of older loads, where a subquery would be
    joined to every raw row first. -#}
{% macro newest_load_held(relation) -%}
    {%- set newest = run_query('select max(_loaded_at) from ' ~ relation) if execute else none -%}
    {%- set loaded_at = newest.columns[0].values()[0] if newest is not none else none -%}
    {%- if loaded_at is none -%}
        {{ beginning_of_time() }}
    {%- else -%}
        cast({{ dbt.string_literal(loaded_at.isoformat(sep=' ')) }} as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- A condition true on the rows of loads completed after this model's watermark; in a full
    refresh or first run, on every row. -#}
{% macro loaded_since_last_run(column='_loaded_at') -%}
    {%- if is_incremental() -%}
        {{ column }} > {{ last_loaded_at() }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The values of `key` (a column or a comma-separated list) on the rows of `relation` that
    loads completed since the last run brought. -#}
{% macro keys_loaded_since_last_run(relation, key) -%}
    select {{ key }}
    from {{ relation }}
    where {{ loaded_since_last_run() }}
{%- endmacro %}

{#- Every row of `relation` whose `key` a load since the last run touched: all versions of each
    touched key, old and new, so that deduplicating them gives what a full refresh gives for
    that key. The filter sits below the deduplication, where the warehouse can push it into the
    scan; a view that deduplicated first would have to rank every row ever loaded.
    A model whose table is partitioned by day (partition_by, from incremental_partition_by)
    overwrites whole partitions: its batch is every row of each day a load touched, `day` being
    the expression on `relation` that gives the model's partition column. -#}
{% macro rows_of_keys_loaded_since_last_run(relation, key, day=none) -%}
    select *
    from {{ relation }}
    {%- if is_incremental() and day and config.get('partition_by') %}
        where {{ day }} in ({{ keys_loaded_since_last_run(relation, day) }})
    {%- elif is_incremental() %}
        where ({{ key }}) in ({{ keys_loaded_since_last_run(relation, key) }})
    {%- endif %}
{%- endmacro %}

{#- The id of this dbt invocation, which incremental models write on every row they (re)write
    as `_dbt_invocation_id`. -#}
{% macro dbt_invocation_id() -%}
    cast({{ dbt.string_literal(invocation_id) }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- True on the rows this dbt invocation wrote: the data tests of an incremental model check
    those on a daily run (macro get_where_subquery), every row in a full run. -#}
{% macro written_by_this_run() -%}
    _dbt_invocation_id = '{{ invocation_id }}'
{%- endmacro %}

{#- A condition true where `column` holds a `key` of the rows of `relation` (a model) that this
    invocation wrote: a reconciliation test (tests/data_tests) checks those keys on both sides
    on a daily run. True everywhere with var test_all_rows (`warehouse build --full`) and for a
    model that is not incremental, whose every row each build writes. -#}
{% macro in_keys_written_by_this_run(column, relation, key) -%}
    {%- set written = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', relation.identifier)
        | first if execute else none -%}
    {%- if written and written.config.materialized == 'incremental'
        and not var('test_all_rows', false) -%}
        {{ column }} in (
            select written.{{ key }} from {{ relation }} as written
            where written.{{ written_by_this_run() }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The keys of this model's held rows whose day's exchange rate (ods_fx_rates_daily) a load
    since the last run brought or changed: a rate arrives after the money it converts, and a
    late rate changes the days it is carried over. The held rows have `currency_code` and the
    date column whose rate converts them. -#}
{% macro held_keys_whose_rate_loaded_since_last_run(key, date_column) -%}
    select held.{{ key }}
    from {{ this }} as held
    inner join {{ ref('ods_fx_rates_daily') }} as fx_rates
        on
            held.currency_code = fx_rates.currency_code
            and held.{{ date_column }} = fx_rates.rate_date
    where {{ loaded_since_last_run('fx_rates._loaded_at') }}
{%- endmacro %}

{#- For a data test of the view `view_node` (a staging model) on a daily run: a condition true
    on the view's rows of loads completed after the watermark of each incremental model that
    reads it, which are the rows those models process in this build (in `dbt build` a model
    runs after its parents' tests, so its watermark is still the last run's). A reader whose
    config meta says reads_since_readers_last_run (a table that holds what its own readers
    need, as int_web_recent_event_deliveries) counts by the watermarks of its readers. Also
    that table's own window. None, so that the test reads every row, in a full refresh (the
    readers reprocess every row), when the view has no reader, when a reader is not
    incremental (it reads every row anyway) or has no `_loaded_at` watermark yet (not built). -#}
{% macro loaded_since_readers_last_run(view_node) -%}
    {%- set found = namespace(watermarks=[], readers=[], complete=not flags.FULL_REFRESH) -%}
    {%- do find_readers_watermarks(view_node, found) -%}
    {%- if found.watermarks and found.complete -%}
        {%- if found.watermarks | length == 1 -%}
            {%- do return('_loaded_at > ' ~ found.watermarks[0]) -%}
        {%- else -%}
            {%- do return('_loaded_at > least(' ~ found.watermarks | join(', ') ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}

{#- Appends to `found.watermarks` the watermark of each model that reads `node`, or of the
    readers of a reader that reads for them (see loaded_since_readers_last_run), once per
    model (`found.readers`, their ids) however many ways it reads; sets `found.complete`
    false when one has none. -#}
{% macro find_readers_watermarks(node, found) -%}
    {%- for reader in graph.nodes.values()
        if reader.resource_type == 'model' and node.unique_id in reader.depends_on.nodes
        and reader.unique_id not in found.readers -%}
        {%- do found.readers.append(reader.unique_id) -%}
        {%- if reader.config.meta.get('reads_since_readers_last_run') -%}
            {%- do find_readers_watermarks(reader, found) -%}
        {%- else -%}
            {%- set relation = adapter.get_relation(
                database=reader.database, schema=reader.schema, identifier=reader.alias
            ) if reader.config.materialized == 'incremental' else none -%}
            {%- set held_columns = adapter.get_columns_in_relation(relation)
                | map(attribute='name') | map('lower') | list if relation is not none else [] -%}
            {%- if '_loaded_at' in held_columns -%}
                {%- do found.watermarks.append(newest_load_held(relation)) -%}
            {%- else -%}
                {%- set found.complete = false -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- The rows an incremental model writes, from the CTE `batch` that holds the keys this run
    recomputes. Where its table is partitioned by day (partition_by from
    incremental_partition_by: Spark, which overwrites the batch's days whole), each of those
    days must be written whole: the held rows of the days whose keys the batch does not
    recompute are written back unchanged, as delete+insert on unique_key would leave them.
    Both sides name the held table's columns, whose order differs from the batch's (Spark
    keeps partition columns last); a column the model gained since therefore needs a full
    refresh there. Elsewhere, the batch itself. -#}
{% macro batch_with_rest_of_its_days(batch) -%}
    {%- if is_incremental() and config.get('partition_by') -%}
        {%- set day = config.get('partition_by') -%}
        {%- set unique_key = config.get('unique_key') -%}
        {%- set key = [unique_key] if unique_key is string else unique_key -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    select {{ columns | join(', ') }}
    from {{ batch }}
    union all
    select {% for column in columns %}held.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ this }} as held
    where
        (
            held.{{ day }} in (select batch_days.{{ day }} from {{ batch }} as batch_days)
            -- the rows without a day share a partition too
            or held.{{ day }} is null
            and exists (select 1 from {{ batch }} as undated where undated.{{ day }} is null)
        )
        and not exists (
            select 1
            from {{ batch }} as batch_keys
            where
            {%- for column in key %}
                {% if not loop.first %}and {% endif -%}
                batch_keys.{{ column }} = held.{{ column }}
            {%- endfor %}
        )
    {%- else %}
    select * from {{ batch }}
    {%- endif %}
{%- endmacro %}
