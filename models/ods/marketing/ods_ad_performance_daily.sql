{#- Each campaign's daily performance in its latest restatement, spend also in EUR. -#}
with

report_deliveries as (

    select * from {{ ref('stg_ads__daily_reports') }}

),

campaigns as (

    select * from {{ ref('ods_campaigns') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

daily_reports as (

    -- restatements replace a day's numbers: the latest load wins
    {{ deduplicate('report_deliveries', 'campaign_id, report_date', '_dlt_load_id desc') }}

),

final as (

    select
        daily_reports.campaign_id,
        campaigns.platform,
        campaigns.channel_code,
        daily_reports.impressions,
        daily_reports.clicks,
        daily_reports.platform_conversions,
        daily_reports.spend,
        daily_reports.currency_code,
        {{ money('daily_reports.spend / fx_rates.rate_per_eur') }} as spend_eur,
        daily_reports.report_date

    from daily_reports
    left join campaigns
        on daily_reports.campaign_id = campaigns.campaign_id
    left join fx_rates
        on
            daily_reports.currency_code = fx_rates.currency_code
            and daily_reports.report_date = fx_rates.rate_date

)

select * from final
