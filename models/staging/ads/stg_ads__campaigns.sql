with

source as (

    {{ completed_loads('ads', 'campaigns') }}

),

renamed as (

    select
        cast(campaign_id as bigint) as campaign_id,
        trim(cast(campaign_name as {{ type_varchar() }})) as campaign_name,
        lower(trim(cast(platform as {{ type_varchar() }}))) as platform,
        lower(trim(cast(objective as {{ type_varchar() }}))) as objective,
        lower(trim(cast(status as {{ type_varchar() }}))) as campaign_status,
        lower(trim(cast(utm_source as {{ type_varchar() }}))) as utm_source,
        lower(trim(cast(utm_medium as {{ type_varchar() }}))) as utm_medium,
        lower(trim(cast(utm_campaign as {{ type_varchar() }}))) as utm_campaign,
        upper(trim(cast(currency as {{ type_varchar() }}))) as currency_code,
        {{ money('daily_budget') }} as daily_budget,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

),

flagged as (

    -- a campaign with a code the platforms do not document still spends money: its codes
    -- are kept and flagged
    select
        *,
        {{ is_unknown_code('platform', 'campaign_platform') }} as is_unknown_platform,
        {{ is_unknown_code('objective', 'campaign_objective') }} as is_unknown_objective,
        {{ is_unknown_code('campaign_status', 'campaign_status') }} as is_unknown_campaign_status

    from renamed

)

select * from flagged
