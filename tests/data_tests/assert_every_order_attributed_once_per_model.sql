-- Every order appears exactly once under each attribution model.
with

orders as (

    select order_id from {{ ref('ods_orders') }}

),

attribution as (

    select * from {{ ref('fct_order_attribution') }}

),

attribution_models as (

    select 'first_touch' as attribution_model
    union all
    select 'last_touch' as attribution_model

),

counted as (

    select
        orders.order_id,
        attribution_models.attribution_model,
        count(attribution.order_id) as attribution_count
    from orders
    cross join attribution_models
    left join attribution
        on
            orders.order_id = attribution.order_id
            and attribution_models.attribution_model = attribution.attribution_model
    group by orders.order_id, attribution_models.attribution_model

)

select *
from counted
where attribution_count != 1
