{#- Which web visitors (anonymous ids) are which customers: every pair seen on an event of a
    logged-in visitor. One visitor can be several customers (a shared device) and one customer
    several visitors (phone and laptop). -#}
with

events as (

    select * from {{ ref('stg_web__events') }}

),

final as (

    select
        anonymous_id,
        customer_id,
        count(*) as event_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at

    from events
    where customer_id is not null
    group by anonymous_id, customer_id

)

select * from final
