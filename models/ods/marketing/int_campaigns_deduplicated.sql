{#- The ad platforms' campaigns, one row per campaign: its latest state. ods_campaigns and the
    snapshot of campaign history (campaigns_snapshot) read it. A table: campaigns are few. -#}
with

campaigns as (

    select * from {{ ref('stg_ads__campaigns') }}

),

deduplicated as (

    {{ deduplicate('campaigns', 'campaign_id', 'updated_at desc, _dlt_load_id desc') }}

),

final as (

    select
        campaign_id,
        campaign_name,
        platform,
        objective,
        campaign_status,
        utm_source,
        utm_medium,
        utm_campaign,
        currency_code,
        daily_budget,
        start_date,
        end_date,
        updated_at,
        _dlt_load_id,
        _loaded_at,
        is_unknown_platform,
        is_unknown_objective,
        is_unknown_campaign_status

    from deduplicated

)

select * from final
