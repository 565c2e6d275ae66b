{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('event_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Web events without personal data: the user agent is reduced to a device type. Events of
    a type the export does not document are kept, flagged (is_unknown_event_type).
    The export sends some events twice, in the same file or a later one: this is where they
    become one row per event_id, the latest load's. Incremental: a run takes every delivery of
    each event that a load since the last run brought, so late and repeated events land whenever
    their file arrives; where the table is partitioned by event_date (Spark), every event of
    each day such a load touched. -#}
with

events as (

    {{ rows_of_keys_loaded_since_last_run(
        ref('stg_web__events'), 'event_id', day='cast(occurred_at as date)'
    ) }}

),

deduplicated as (

    {{ deduplicate('events', 'event_id', '_dlt_load_id desc') }}

),

transformed as (

    select
        -- ids
        event_id,
        anonymous_id,
        customer_id,
        order_number,
        product_id,
        -- attributes
        event_type,
        page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        country_code,
        case
            when user_agent like '%iPad%' or user_agent like '%Tablet%' then 'tablet'
            -- phones, including the shop's own app (LarkspurApp/3.2 (iOS 17.4) names no device)
            when
                user_agent like '%Mobile%'
                or user_agent like '%Android%'
                or user_agent like '%iPhone%'
                or user_agent like '%iOS%'
                then 'mobile'
            when user_agent is null then 'unknown'
            else 'desktop'
        end as device_type,
        -- flags
        is_unknown_event_type,
        -- dates and timestamps
        cast(occurred_at as date) as event_date,
        occurred_at,
        _dlt_load_id,
        _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from deduplicated

)

select * from transformed
