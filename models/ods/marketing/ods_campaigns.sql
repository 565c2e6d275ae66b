{#- Campaigns in their current state with the channel their UTM parameters map to. -#}
with

campaigns as (

    select * from {{ ref('int_campaigns_deduplicated') }}

),

ad_group_deliveries as (

    select * from {{ ref('stg_ads__ad_groups') }}

),

utm_channel_mapping as (

    select * from {{ ref('utm_channel_mapping') }}

),

ad_groups as (

    {{ deduplicate('ad_group_deliveries', 'ad_group_id', 'updated_at desc, _dlt_load_id desc') }}

),

ad_group_counts as (

    select
        campaign_id,
        count(*) as ad_group_count,
        sum(case when ad_group_status = 'active' then 1 else 0 end) as active_ad_group_count

    from ad_groups
    group by campaign_id

),

final as (

    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.platform,
        campaigns.objective,
        campaigns.campaign_status,
        campaigns.utm_source,
        campaigns.utm_medium,
        campaigns.utm_campaign,
        coalesce(utm_channel_mapping.channel_code, 'unknown') as channel_code,
        campaigns.daily_budget,
        campaigns.currency_code,
        coalesce(ad_group_counts.ad_group_count, 0) as ad_group_count,
        coalesce(ad_group_counts.active_ad_group_count, 0) as active_ad_group_count,
        campaigns.is_unknown_platform,
        campaigns.is_unknown_objective,
        campaigns.is_unknown_campaign_status,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.updated_at

    from campaigns
    left join ad_group_counts
        on campaigns.campaign_id = ad_group_counts.campaign_id
    left join utm_channel_mapping
        on
            campaigns.utm_source = utm_channel_mapping.utm_source
            and campaigns.utm_medium = utm_channel_mapping.utm_medium

)

select * from final
