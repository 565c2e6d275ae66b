{#- The web visitors whose events the loads completed since this model's last run changed,
    each with the earliest time among those events: every delivery of each event the loads
    brought counts, old and new, so a visitor a re-sent event moved away from is changed too,
    also one left without any event. In a full refresh or first run, every visitor. -#}
{% macro web_visitors_changed_since_last_run() -%}
    select
        anonymous_id,
        min(occurred_at) as changed_from
    from (
        {{ rows_of_keys_loaded_since_last_run(ref('stg_web__events'), 'event_id') }}
    ) as deliveries
    group by anonymous_id
{%- endmacro %}
