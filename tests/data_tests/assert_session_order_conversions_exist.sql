{{ config(severity='warn') }}

-- Soft rule: an order_completed event quotes an order the shop knows. Orders placed just
-- before an export's cut-off, or events the loader quarantined, can make this drift.
with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

orders as (

    select * from {{ ref('ods_orders') }}

)

select
    sessions.session_id,
    sessions.order_number
from sessions
left join orders
    on sessions.order_number = orders.order_number
where sessions.order_number is not null and orders.order_id is null
