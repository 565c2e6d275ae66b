{{
    config(
        materialized='table',
        meta={'reads_since_readers_last_run': true},
    )
}}

{#- Every delivery, old and new, of each web event that a load since the oldest watermark of
    this model's readers brought, with the completion time of that event's newest load. The
    models keyed by web visitor take the visitors whose events changed from here, and
    ods_order_attribution the customers and orders those events named, each past its own
    watermark (macro web_event_deliveries_since_last_run): a build looks up every delivery of
    the day's events in the raw history once, not once per reader. Empty in a full refresh or
    first build, where its readers read every event themselves. -#}

{%- set changed_since = loaded_since_readers_last_run(model) if execute else none %}

{#- staging is named in each place, not as a CTE read twice, which DuckDB would materialise
    whole before filtering -#}
with

deliveries as (

    select
        event_id,
        anonymous_id,
        customer_id,
        order_number,
        occurred_at,
        _loaded_at

    from {{ ref('stg_web__events') }}
    {%- if changed_since %}
        where event_id in (
            select event_id from {{ ref('stg_web__events') }}
            where {{ changed_since }}
        )
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
