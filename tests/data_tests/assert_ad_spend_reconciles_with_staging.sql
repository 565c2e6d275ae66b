-- Ad spend in the marketing mart equals the platforms' latest restated reports within a cent.
with

mart as (

    select sum(spend) as spend
    from {{ ref('fct_ad_spend_daily') }}

),

staging as (

    select sum(spend) as spend
    from {{ ref('stg_ads__daily_reports') }}

)

select
    staging.spend as staging_spend,
    mart.spend as mart_spend
from staging
cross join mart
where abs(coalesce(staging.spend, 0) - coalesce(mart.spend, 0)) >= 0.01
