{#- Ad campaigns in their current state (their history is in campaigns_snapshot), plus the
    unknown member for traffic and orders without a campaign. -#}
with

campaigns as (

    select * from {{ ref('ods_campaigns') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

final as (

    select
        cast({{ generate_surrogate_key(['campaigns.campaign_id']) }} as {{ type_varchar() }})
            as campaign_sk,
        cast(campaigns.campaign_id as bigint) as campaign_id,
        cast(coalesce(channels.channel_sk, {{ unknown_channel_key() }}) as {{ type_varchar() }})
            as channel_sk,
        cast(campaigns.campaign_name as {{ type_varchar() }}) as campaign_name,
        cast(campaigns.platform as {{ type_varchar() }}) as platform,
        cast(campaigns.objective as {{ type_varchar() }}) as objective,
        cast(campaigns.campaign_status as {{ type_varchar() }}) as campaign_status,
        cast(campaigns.channel_code as {{ type_varchar() }}) as channel_code,
        cast(campaigns.utm_source as {{ type_varchar() }}) as utm_source,
        cast(campaigns.utm_medium as {{ type_varchar() }}) as utm_medium,
        cast(campaigns.utm_campaign as {{ type_varchar() }}) as utm_campaign,
        cast(campaigns.currency_code as {{ type_varchar() }}) as currency_code,
        cast(campaigns.daily_budget as numeric(18, 2)) as daily_budget,
        cast(campaigns.ad_group_count as integer) as ad_group_count,
        cast(campaigns.is_unknown_platform as boolean) as is_unknown_platform,
        cast(campaigns.is_unknown_objective as boolean) as is_unknown_objective,
        cast(campaigns.is_unknown_campaign_status as boolean) as is_unknown_campaign_status,
        cast(campaigns.start_date as date) as start_date,
        cast(campaigns.end_date as date) as end_date

    from campaigns
    left join channels
        on campaigns.channel_code = channels.channel_code

    union all

    select
        cast({{ unknown_member_key() }} as {{ type_varchar() }}) as campaign_sk,
        cast(null as bigint) as campaign_id,
        cast({{ unknown_channel_key() }} as {{ type_varchar() }}) as channel_sk,
        cast('Unknown' as {{ type_varchar() }}) as campaign_name,
        cast(null as {{ type_varchar() }}) as platform,
        cast(null as {{ type_varchar() }}) as objective,
        cast(null as {{ type_varchar() }}) as campaign_status,
        cast('unknown' as {{ type_varchar() }}) as channel_code,
        cast(null as {{ type_varchar() }}) as utm_source,
        cast(null as {{ type_varchar() }}) as utm_medium,
        cast(null as {{ type_varchar() }}) as utm_campaign,
        cast(null as {{ type_varchar() }}) as currency_code,
        cast(null as numeric(18, 2)) as daily_budget,
        cast(0 as integer) as ad_group_count,
        cast(false as boolean) as is_unknown_platform,
        cast(false as boolean) as is_unknown_objective,
        cast(false as boolean) as is_unknown_campaign_status,
        cast(null as date) as start_date,
        cast(null as date) as end_date

)

select * from final
