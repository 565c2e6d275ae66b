{#- Grain: one order and attribution model (first_touch, last_touch): the session, channel and
    campaign credited with the order and the order's net revenue in EUR. -#}
with

attribution as (

    select * from {{ ref('ods_order_attribution') }}

),

order_lines as (

    select * from {{ ref('ods_order_lines') }}

),

orders as (

    select * from {{ ref('ods_orders') }}

),

campaign_keys as (

    select * from {{ ref('int_campaigns_keyed_by_utm') }}

),

campaigns as (

    select * from {{ ref('dim_campaign') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

order_revenue as (

    select
        order_id,
        sum(net_amount_eur) as net_amount_eur

    from order_lines
    group by order_id

),

final as (

    select
        cast(
            {{ generate_surrogate_key(['attribution.order_id', 'attribution.attribution_model']) }}
            as varchar
        ) as order_attribution_sk,
        cast(attribution.order_id as bigint) as order_id,
        cast(attribution.order_number as varchar) as order_number,
        cast(attribution.attribution_model as varchar) as attribution_model,
        cast(attribution.session_id as varchar) as session_id,
        cast(
            case
                when attribution.session_id is not null
                    then {{ generate_surrogate_key(['attribution.session_id']) }}
                else {{ unknown_member_key() }}
            end as varchar
        ) as session_sk,
        cast(coalesce(channels.channel_sk, {{ unknown_channel_key() }}) as varchar)
            as channel_sk,
        cast(coalesce(campaigns.campaign_sk, {{ unknown_member_key() }}) as varchar)
            as campaign_sk,
        {{ date_sk('attribution.order_date') }} as order_date_sk,
        cast(attribution.channel_code as varchar) as channel_code,
        cast(coalesce(order_revenue.net_amount_eur, 0) as numeric(18, 2)) as net_amount_eur,
        cast(
            {{ dbt.datediff('attribution.touched_at', 'attribution.ordered_at', 'day') }}
            as integer
        ) as days_to_convert,
        cast(attribution.is_attributed as boolean) as is_attributed,
        cast(orders.is_cancelled as boolean) as is_cancelled,
        cast(attribution.order_date as date) as order_date,
        cast(attribution.ordered_at as timestamp) as ordered_at,
        cast(attribution.touched_at as timestamp) as touched_at

    from attribution
    inner join orders
        on attribution.order_id = orders.order_id
    left join order_revenue
        on attribution.order_id = order_revenue.order_id
    left join campaign_keys
        on
            attribution.utm_source = campaign_keys.utm_source
            and attribution.utm_campaign = campaign_keys.utm_campaign
    left join campaigns
        on campaign_keys.campaign_id = campaigns.campaign_id
    left join channels
        on attribution.channel_code = channels.channel_code

)

select * from final
