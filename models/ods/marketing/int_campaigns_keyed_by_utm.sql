{{ config(materialized='ephemeral') }}

{#- One campaign per (utm_source, utm_campaign), so that a visit's UTM parameters find at most
    one campaign even if a campaign name is reused (the oldest campaign wins). -#}
with

campaigns as (

    select * from {{ ref('ods_campaigns') }}

),

final as (

    select
        utm_source,
        utm_campaign,
        min(campaign_id) as campaign_id

    from campaigns
    where utm_campaign is not null
    group by utm_source, utm_campaign

)

select * from final
