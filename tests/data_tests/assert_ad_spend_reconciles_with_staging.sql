-- Ad spend in the marketing mart equals the platforms' latest restated reports within a cent.
-- Staging holds every restatement; the latest of each campaign and day counts, deduplicated
-- here as the ODS does, so that the check does not rely on the models it checks.
with

report_deliveries as (

    select * from {{ ref('stg_ads__daily_reports') }}

),

latest_reports as (

    {{ deduplicate('report_deliveries', 'campaign_id, report_date', '_dlt_load_id desc') }}

),

mart as (

    select sum(spend) as spend
    from {{ ref('fct_ad_spend_daily') }}

),

staging as (

    select sum(spend) as spend
    from latest_reports

)

select
    staging.spend as staging_spend,
    mart.spend as mart_spend
from staging
cross join mart
where abs(coalesce(staging.spend, 0) - coalesce(mart.spend, 0)) >= 0.01
