-- The daily revenue summary holds the net revenue of every order line of orders not
-- cancelled: nothing lost to a missing country, channel or category.
with

summary as (

    select sum(net_revenue_eur) as net_revenue_eur
    from {{ ref('fct_revenue_daily') }}

),

lines as (

    select sum(net_amount_eur) as net_revenue_eur
    from {{ ref('fct_order_lines') }}
    where not is_cancelled

)

select
    lines.net_revenue_eur as order_lines_net_revenue_eur,
    summary.net_revenue_eur as summary_net_revenue_eur
from lines
cross join summary
where
    abs(coalesce(lines.net_revenue_eur, 0) - coalesce(summary.net_revenue_eur, 0)) >= 0.01
