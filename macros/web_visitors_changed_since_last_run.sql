{#- Every delivery, old and new, of each web event that the loads completed since this model's
    last run brought (event_id, anonymous_id, customer_id, order_number, occurred_at): where an
    event was re-sent changed, its old delivery still says what it changed. Read from
    int_web_recent_event_deliveries, which this build filled once for every such model; where
    that table missed a load (a build that selected this model and not it, or one that built
    it before a reader existed), from staging, which costs a look-up of the whole raw history
    but gives the same rows. -#}
{% macro web_event_deliveries_since_last_run() -%}
    {%- set recent_deliveries = ref('int_web_recent_event_deliveries') %}
    select
        event_id,
        anonymous_id,
        customer_id,
        order_number,
        occurred_at
    {%- if model.resource_type == 'unit_test' or holds_every_web_load(recent_deliveries) %}
    from {{ recent_deliveries }}
    where event_loaded_at > {{ last_loaded_at() }}
    {%- else %}
    from (
        {{ rows_of_keys_loaded_since_last_run(ref('stg_web__events'), 'event_id') }}
    ) as deliveries
    {%- endif %}
{%- endmacro %}

{#- The web visitors whose events the loads completed since this model's last run changed,
    each with the earliest time among those events: every delivery of each event the loads
    brought counts, old and new, so a visitor a re-sent event moved away from is changed too,
    also one left without any event. In a full refresh or first run, every visitor. -#}
{% macro web_visitors_changed_since_last_run() -%}
    select
        anonymous_id,
        min(occurred_at) as changed_from
    from ({{ web_event_deliveries_since_last_run() }}) as deliveries
    group by anonymous_id
{%- endmacro %}

{#- Whether `recent_deliveries` (int_web_recent_event_deliveries, built) holds the newest
    completed web load: its window reached back to the oldest of its readers' watermarks when it
    was built, so it then holds every load a reader has yet to process. Empty (nothing changed,
    or a full refresh built it), older than a load that brought no event, or before any web
    load, counts as not: the look-up in staging is then cheap or needed. -#}
{% macro holds_every_web_load(recent_deliveries) -%}
    {%- set built = adapter.get_relation(
        database=recent_deliveries.database,
        schema=recent_deliveries.schema,
        identifier=recent_deliveries.identifier,
    ) if execute else none -%}
    {%- if built is none -%}
        {{ return(false) }}
    {%- endif -%}
    {#- dlt's log of the web loads, not staging: a row per load, where staging's newest
        `_loaded_at` would join every raw event to it. dlt creates it with the first web load;
        before that, staging is empty and cheap to read. -#}
    {%- set web_loads = source('web', '_dlt_loads') -%}
    {%- if adapter.get_relation(
        database=web_loads.database, schema=web_loads.schema, identifier=web_loads.identifier
    ) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set compared = run_query(
        'select (select max(event_loaded_at) from ' ~ built ~ ')'
        ~ ' >= (select max(' ~ to_utc_timestamp('inserted_at') ~ ')'
        ~ ' from ' ~ web_loads ~ ' where status = 0)'
    ) -%}
    {{ return(compared.columns[0].values()[0] == true) }}
{%- endmacro %}
