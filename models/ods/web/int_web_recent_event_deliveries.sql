{{
    config(
        materialized='table',
        meta={'reads_since_readers_last_run': true},
    )
}}

{#- Every delivery, old and new, of each web event that a load since the oldest watermark of
    this model's readers brought, with the completion time of that event's newest load. The
    models keyed by web visitor take the visitors whose events changed from here, each past its
    own watermark (macro web_visitors_changed_since_last_run): a build looks up every delivery
    of the day's events in the raw history once, not once per reader. Empty in a full refresh
    or first build, where its readers read every event themselves. -#}

{%- set changed_since = loaded_since_readers_last_run(model) if execute else none %}

with

events as (

    select * from {{ ref('stg_web__events') }}

),

{%- if changed_since %}

touched_events as (

    select event_id from events
    where {{ changed_since }}

),

{%- endif %}

deliveries as (

    select
        event_id,
        anonymous_id,
        occurred_at,
        _loaded_at

    from events
    {%- if changed_since %}
        where event_id in (select touched_events.event_id from touched_events)
    {%- else %}
        -- a full refresh or first build: the readers read every event
        where 1 = 0
    {%- endif %}

),

final as (

    select
        *,
        -- a visitor an event moved away from holds only its old delivery, which this dates
        max(_loaded_at) over (partition by event_id) as event_loaded_at

    from deliveries

)

select * from final
