{#- Grain: one campaign and day. Spend as the platforms last restated it, in the campaign's
    currency and in EUR. -#}
with

ad_performance as (

    select * from {{ ref('ods_ad_performance_daily') }}

),

campaigns as (

    select * from {{ ref('dim_campaign') }}

),

final as (

    select
        cast(
            {{ generate_surrogate_key([
                'ad_performance.campaign_id', 'ad_performance.report_date',
            ]) }}
            as {{ type_varchar() }}
        ) as ad_spend_sk,
        cast(coalesce(campaigns.campaign_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as campaign_sk,
        cast(coalesce(campaigns.channel_sk, {{ unknown_channel_key() }}) as {{ type_varchar() }})
            as channel_sk,
        {{ date_sk('ad_performance.report_date') }} as report_date_sk,
        cast(ad_performance.campaign_id as bigint) as campaign_id,
        cast(ad_performance.platform as {{ type_varchar() }}) as platform,
        cast(ad_performance.channel_code as {{ type_varchar() }}) as channel_code,
        cast(ad_performance.currency_code as {{ type_varchar() }}) as currency_code,
        cast(ad_performance.impressions as bigint) as impressions,
        cast(ad_performance.clicks as bigint) as clicks,
        cast(ad_performance.platform_conversions as bigint) as platform_conversions,
        cast(ad_performance.spend as numeric(18, 2)) as spend,
        cast(ad_performance.spend_eur as numeric(18, 2)) as spend_eur,
        cast(ad_performance.report_date as date) as report_date

    from ad_performance
    left join campaigns
        on ad_performance.campaign_id = campaigns.campaign_id

)

select * from final
