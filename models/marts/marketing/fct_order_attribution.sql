{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('order_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one order and attribution model (first_touch, last_touch): the session, channel and
    campaign credited with the order and the order's net revenue in EUR. Incremental: a run
    recomputes the orders whose attribution, lines or state loaded since the last run, and
    those whose held row no longer has the attribution's session, channel, time or campaign
    (the current campaigns' UTM parameters may no longer find it). -#}
with

all_attribution as (

    select * from {{ ref('ods_order_attribution') }}

),

all_order_lines as (

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

{%- if is_incremental() %}

changed_orders as (

    select order_id from all_attribution
    where {{ loaded_since_last_run() }}

    union

    select order_id from all_order_lines
    where {{ loaded_since_last_run() }}

    union

    select order_id from orders
    where {{ loaded_since_last_run() }}

    union

    -- the held row no longer says what the attribution says: a campaign can arrive, or change
    -- its UTM parameters, after the sessions that quote them, and a re-sent web event can
    -- move the credited session without a newer load of the order or its sessions
    select held.order_id
    from {{ this }} as held
    inner join all_attribution
        on
            held.order_id = all_attribution.order_id
            and held.attribution_model = all_attribution.attribution_model
    left join campaign_keys
        on
            all_attribution.utm_source = campaign_keys.utm_source
            and all_attribution.utm_campaign = campaign_keys.utm_campaign
    left join campaigns
        on campaign_keys.campaign_id = campaigns.campaign_id
    where
        held.campaign_sk != coalesce(campaigns.campaign_sk, {{ unknown_member_key() }})
        or held.session_id is distinct from all_attribution.session_id
        or held.channel_code != all_attribution.channel_code
        or held.touched_at is distinct from all_attribution.touched_at

),

{%- endif %}

attribution as (

    select *
    from all_attribution
    {%- if is_incremental() %}
        where all_attribution.order_id in (select changed_orders.order_id from changed_orders)
    {%- endif %}

),

order_lines as (

    select *
    from all_order_lines
    {%- if is_incremental() %}
        where all_order_lines.order_id in (select changed_orders.order_id from changed_orders)
    {%- endif %}

),

order_revenue as (

    select
        order_id,
        sum(net_amount_eur) as net_amount_eur,
        max(_loaded_at) as _loaded_at

    from order_lines
    group by order_id

),

final as (

    select
        cast(
            {{ generate_surrogate_key(['attribution.order_id', 'attribution.attribution_model']) }}
            as {{ type_varchar() }}
        ) as order_attribution_sk,
        cast(attribution.order_id as bigint) as order_id,
        cast(attribution.order_number as {{ type_varchar() }}) as order_number,
        cast(attribution.attribution_model as {{ type_varchar() }}) as attribution_model,
        cast(attribution.session_id as {{ type_varchar() }}) as session_id,
        cast(
            case
                when attribution.session_id is not null
                    then {{ generate_surrogate_key(['attribution.session_id']) }}
                else {{ unknown_member_key() }}
            end as {{ type_varchar() }}
        ) as session_sk,
        cast(coalesce(channels.channel_sk, {{ unknown_channel_key() }}) as {{ type_varchar() }})
            as channel_sk,
        cast(coalesce(campaigns.campaign_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as campaign_sk,
        {{ date_sk('attribution.order_date') }} as order_date_sk,
        cast(attribution.channel_code as {{ type_varchar() }}) as channel_code,
        cast(coalesce(order_revenue.net_amount_eur, 0) as numeric(18, 2)) as net_amount_eur,
        cast(
            {{ dbt.datediff('attribution.touched_at', 'attribution.ordered_at', 'day') }}
            as integer
        ) as days_to_convert,
        cast(attribution.is_attributed as boolean) as is_attributed,
        cast(orders.is_cancelled as boolean) as is_cancelled,
        cast(attribution.order_date as date) as order_date,
        cast(attribution.ordered_at as timestamp) as ordered_at,
        cast(attribution.touched_at as timestamp) as touched_at,
        -- the newest load among the order, its attribution and its lines
        cast(
            greatest(
                attribution._loaded_at,
                orders._loaded_at,
                coalesce(order_revenue._loaded_at, orders._loaded_at)
            ) as timestamp
        ) as _loaded_at,
        cast({{ dbt_invocation_id() }} as {{ type_varchar() }}) as _dbt_invocation_id

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

{{ batch_with_rest_of_its_days('final') }}
