with

source as (

    {{ completed_loads('web', 'events') }}

),

renamed as (

    select
        -- ids
        cast(event_id as {{ type_varchar() }}) as event_id,
        cast(anonymous_id as {{ type_varchar() }}) as anonymous_id,
        cast(customer_id as bigint) as customer_id,
        upper(trim(cast(order_number as {{ type_varchar() }}))) as order_number,
        cast(product_id as bigint) as product_id,
        -- attributes
        lower(trim(cast(event_type as {{ type_varchar() }}))) as event_type,
        cast(page_url as {{ type_varchar() }}) as page_url,
        nullif(trim(cast(referrer as {{ type_varchar() }})), '') as referrer,
        nullif(lower(trim(cast(utm_source as {{ type_varchar() }}))), '') as utm_source,
        nullif(lower(trim(cast(utm_medium as {{ type_varchar() }}))), '') as utm_medium,
        nullif(lower(trim(cast(utm_campaign as {{ type_varchar() }}))), '') as utm_campaign,
        cast(user_agent as {{ type_varchar() }}) as user_agent,
        upper(trim(cast(country_code as {{ type_varchar() }}))) as country_code,
        -- timestamps
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    -- an event of a type the export does not document is kept and flagged; sessions and
    -- funnels count only the types they know
    select
        *,
        {{ is_unknown_code('event_type', 'web_event_type') }} as is_unknown_event_type

    from renamed

)

select * from flagged
