-- Net amounts of fct_order_lines equal the shop's order lines (quantity × unit price less
-- discount) per currency within a cent: no line lost or duplicated on the way to the mart.
-- Staging holds every delivery of a record; the latest version of each counts, deduplicated
-- here as the ODS does, so that the check does not rely on the models it checks. A daily run
-- checks the orders whose lines it wrote (macro in_keys_written_by_this_run), --full all.
with

mart as (

    select
        currency_code,
        sum(net_amount) as net_amount,
        count(*) as line_count
    from {{ ref('fct_order_lines') }}
    where {{ in_keys_written_by_this_run('order_id', ref('fct_order_lines'), 'order_id') }}
    group by currency_code

),

order_deliveries as (

    select * from {{ ref('stg_shop__orders') }}
    where {{ in_keys_written_by_this_run('order_id', ref('fct_order_lines'), 'order_id') }}

),

line_deliveries as (

    select * from {{ ref('stg_shop__order_lines') }}
    where {{ in_keys_written_by_this_run('order_id', ref('fct_order_lines'), 'order_id') }}

),

staging_orders as (

    {{ deduplicate('order_deliveries', 'order_id', 'updated_at desc, _dlt_load_id desc') }}

),

staging_lines as (

    {{ deduplicate('line_deliveries', 'order_line_id', 'updated_at desc, _dlt_load_id desc') }}

),

staging as (

    select
        staging_orders.currency_code,
        sum(
            staging_lines.quantity * staging_lines.unit_price - staging_lines.discount_amount
        ) as net_amount,
        count(*) as line_count
    from staging_lines
    inner join staging_orders
        on staging_lines.order_id = staging_orders.order_id
    group by staging_orders.currency_code

)

select
    staging.currency_code,
    staging.net_amount as staging_net_amount,
    mart.net_amount as mart_net_amount,
    staging.line_count as staging_line_count,
    mart.line_count as mart_line_count
from staging
full outer join mart
    on staging.currency_code = mart.currency_code
where
    abs(coalesce(staging.net_amount, 0) - coalesce(mart.net_amount, 0)) >= 0.01
    or coalesce(staging.line_count, 0) != coalesce(mart.line_count, 0)
