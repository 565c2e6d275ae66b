{{
    config(
        materialized='incremental',
        unique_key='anonymous_id',
        incremental_strategy=incremental_strategy(empties_keys=true),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one web session. Channel and campaign from the session's landing UTM parameters,
    customer version valid at the session's start for logged-in visitors. Incremental: a run
    replaces the sessions of each visitor whose events a load since the last run changed, as
    ods_web_sessions does, so also of a visitor a re-sent event moved away from, which keeps
    the older `_loaded_at` on its sessions, or which has none left. -#}

-- depends_on: {{ ref('int_web_recent_event_deliveries') }}
-- depends_on: {{ ref('stg_web__events') }}
with

{%- if is_incremental() %}

changed_visitors as (

    {{ web_visitors_changed_since_last_run() }}

),

{%- endif %}

sessions as (

    select * from {{ ref('ods_web_sessions') }}
    {%- if is_incremental() %}
        where anonymous_id in (select changed_visitors.anonymous_id from changed_visitors)
    {%- endif %}

),

campaign_keys as (

    select * from {{ ref('int_campaigns_keyed_by_utm') }}

),

campaigns as (

    select * from {{ ref('dim_campaign') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

geography as (

    select * from {{ ref('dim_geography') }}

),

written_sessions as (

    select
        cast({{ generate_surrogate_key(['sessions.session_id']) }} as {{ type_varchar() }})
            as session_sk,
        cast(sessions.session_id as {{ type_varchar() }}) as session_id,
        cast(sessions.anonymous_id as {{ type_varchar() }}) as anonymous_id,
        cast(coalesce(customers.customer_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as customer_sk,
        cast(coalesce(channels.channel_sk, {{ unknown_channel_key() }}) as {{ type_varchar() }})
            as channel_sk,
        cast(coalesce(campaigns.campaign_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as campaign_sk,
        cast(coalesce(geography.geography_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as geography_sk,
        {{ date_sk('sessions.session_date') }} as session_date_sk,
        cast(sessions.order_number as {{ type_varchar() }}) as order_number,
        cast(sessions.channel_code as {{ type_varchar() }}) as channel_code,
        cast(sessions.utm_source as {{ type_varchar() }}) as utm_source,
        cast(sessions.utm_medium as {{ type_varchar() }}) as utm_medium,
        cast(sessions.utm_campaign as {{ type_varchar() }}) as utm_campaign,
        cast(sessions.device_type as {{ type_varchar() }}) as device_type,
        cast(sessions.landing_page_url as {{ type_varchar() }}) as landing_page_url,
        cast(sessions.event_count as integer) as event_count,
        cast(sessions.page_view_count as integer) as page_view_count,
        cast(sessions.product_view_count as integer) as product_view_count,
        cast(sessions.add_to_cart_count as integer) as add_to_cart_count,
        cast(sessions.checkout_started_count as integer) as checkout_started_count,
        cast(sessions.order_completed_count as integer) as order_completed_count,
        cast(
            {{ dbt.datediff('sessions.started_at', 'sessions.ended_at', 'second') }}
            as integer
        ) as duration_seconds,
        cast(sessions.has_order as boolean) as has_order,
        cast(sessions.event_count = 1 as boolean) as is_bounce,
        cast(sessions.session_date as date) as session_date,
        cast(sessions.started_at as timestamp) as started_at,
        cast(sessions.ended_at as timestamp) as ended_at,
        cast(sessions._loaded_at as timestamp) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from sessions
    left join campaign_keys
        on
            sessions.utm_source = campaign_keys.utm_source
            and sessions.utm_campaign = campaign_keys.utm_campaign
    left join campaigns
        on campaign_keys.campaign_id = campaigns.campaign_id
    left join channels
        on sessions.channel_code = channels.channel_code
    left join customers
        on
            sessions.customer_id = customers.customer_id
            and sessions.started_at >= customers.valid_from
            and (customers.valid_to is null or sessions.started_at < customers.valid_to)
    left join geography
        on sessions.country_code = geography.country_code

),

final as (

    {%- if is_incremental() %}
        {{ rows_or_emptied_keys(
            'select cast(anonymous_id as ' ~ type_varchar() ~ ') as anonymous_id'
            ~ ' from changed_visitors',
            'written_sessions',
            'anonymous_id',
        ) }}
    {%- else %}
        select * from written_sessions
    {%- endif %}

)

select * from final
