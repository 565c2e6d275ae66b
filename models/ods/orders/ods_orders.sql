{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('order_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Order headers, integrated: payment status from the processor's charges and refunds,
    fulfilment status from the 3PL's shipments and tracking, amounts in the order's currency
    and in EUR at the order day's rate, and the masked shipping destination. Incremental: a
    run recomputes each order that a load since the last run touched (the order, one of its
    charges, refunds or shipments, its day's rate) or whose held destination or discount code
    differs from int_order_shipping_and_discount's (an erased customer's addresses are deleted,
    which leaves no load time to watch). -#}
with

shipping_and_discount as (

    select * from {{ ref('int_order_shipping_and_discount') }}

),

all_payments as (

    select * from {{ ref('ods_payments') }}

),

all_refunds as (

    select * from {{ ref('ods_refunds') }}

),

all_shipments as (

    select * from {{ ref('ods_shipments') }}

),

fx_rates as (

    select * from {{ ref('ods_fx_rates_daily') }}

),

{%- if is_incremental() %}

touched_orders as (

    {{ keys_loaded_since_last_run(ref('int_orders_deduplicated'), 'order_id') }}
    union
    {{ keys_loaded_since_last_run(ref('ods_payments'), 'order_id') }}
    union
    {{ keys_loaded_since_last_run(ref('ods_refunds'), 'order_id') }}
    union
    {{ keys_loaded_since_last_run(ref('ods_shipments'), 'order_id') }}
    union
    {{ held_keys_whose_rate_loaded_since_last_run('order_id', 'order_date') }}
    union
    select held.order_id
    from {{ this }} as held
    inner join shipping_and_discount
        on held.order_id = shipping_and_discount.order_id
    where
        held.discount_code is distinct from shipping_and_discount.discount_code
        or held.shipping_country_code
        is distinct from shipping_and_discount.shipping_country_code
        or held.shipping_postcode_prefix
        is distinct from shipping_and_discount.shipping_postcode_prefix

),

{%- endif %}

orders as (

    select * from {{ ref('int_orders_deduplicated') }}
    {%- if is_incremental() %}
        where order_id in (select touched_orders.order_id from touched_orders)
    {%- endif %}

),

payment_summary as (

    select
        order_id,
        count(*) as charge_count,
        sum(case when is_succeeded then amount else 0 end) as paid_amount,
        sum(case when payment_status = 'pending' then 1 else 0 end) as pending_charge_count,
        min(case when is_succeeded then created_at end) as paid_at,
        max(_loaded_at) as _loaded_at

    from all_payments
    where order_id in (select orders.order_id from orders)
    group by order_id

),

refund_summary as (

    select
        order_id,
        sum(case when is_succeeded then amount else 0 end) as refunded_amount,
        max(_loaded_at) as _loaded_at

    from all_refunds
    where order_id in (select orders.order_id from orders)
    group by order_id

),

shipment_summary as (

    select
        order_id,
        count(*) as shipment_count,
        sum(case when is_delivered then 1 else 0 end) as delivered_count,
        sum(case when is_returned then 1 else 0 end) as returned_count,
        sum(case when has_exception then 1 else 0 end) as exception_count,
        min(shipped_at) as shipped_at,
        max(delivered_at) as delivered_at,
        max(_loaded_at) as _loaded_at

    from all_shipments
    where order_id in (select orders.order_id from orders)
    group by order_id

),

joined as (

    select
        orders.*,
        shipping_and_discount.discount_code,
        shipping_and_discount.shipping_country_code,
        shipping_and_discount.shipping_postcode_prefix,
        fx_rates.rate_per_eur as fx_rate_per_eur,
        -- the newest load among the order's, its charges', refunds', shipments', rate's
        greatest(
            orders._loaded_at,
            coalesce(payment_summary._loaded_at, orders._loaded_at),
            coalesce(refund_summary._loaded_at, orders._loaded_at),
            coalesce(shipment_summary._loaded_at, orders._loaded_at),
            coalesce(fx_rates._loaded_at, orders._loaded_at)
        ) as newest_loaded_at,
        coalesce(payment_summary.charge_count, 0) as charge_count,
        coalesce(payment_summary.paid_amount, 0) as paid_amount,
        coalesce(payment_summary.pending_charge_count, 0) as pending_charge_count,
        coalesce(refund_summary.refunded_amount, 0) as refunded_amount,
        payment_summary.paid_at,
        coalesce(shipment_summary.shipment_count, 0) as shipment_count,
        coalesce(shipment_summary.delivered_count, 0) as delivered_count,
        coalesce(shipment_summary.returned_count, 0) as returned_count,
        coalesce(shipment_summary.exception_count, 0) as exception_count,
        shipment_summary.shipped_at,
        shipment_summary.delivered_at

    from orders
    left join shipping_and_discount
        on orders.order_id = shipping_and_discount.order_id
    left join payment_summary
        on orders.order_id = payment_summary.order_id
    left join refund_summary
        on orders.order_id = refund_summary.order_id
    left join shipment_summary
        on orders.order_id = shipment_summary.order_id
    left join fx_rates
        on
            orders.currency_code = fx_rates.currency_code
            and cast(orders.ordered_at as date) = fx_rates.rate_date

),

final as (

    select
        -- ids
        order_id,
        order_number,
        customer_id,
        discount_id,
        -- codes
        discount_code,
        order_status,
        case
            when paid_amount > 0 and refunded_amount >= paid_amount then 'refunded'
            when paid_amount > 0 and refunded_amount > 0 then 'partially_refunded'
            when paid_amount > 0 then 'paid'
            when pending_charge_count > 0 then 'pending'
            when charge_count > 0 then 'failed'
            else 'unpaid'
        end as payment_status,
        case
            when shipment_count = 0 then 'unfulfilled'
            when returned_count > 0 then 'returned'
            when delivered_count = shipment_count then 'delivered'
            when exception_count > 0 then 'exception'
            else 'shipped'
        end as fulfilment_status,
        shipping_country_code,
        shipping_postcode_prefix,
        -- amounts in the order's currency
        currency_code,
        subtotal_amount,
        discount_amount,
        shipping_amount,
        tax_amount,
        total_amount,
        paid_amount,
        refunded_amount,
        -- amounts in EUR
        fx_rate_per_eur,
        {{ money('subtotal_amount / fx_rate_per_eur') }} as subtotal_amount_eur,
        {{ money('discount_amount / fx_rate_per_eur') }} as discount_amount_eur,
        {{ money('shipping_amount / fx_rate_per_eur') }} as shipping_amount_eur,
        {{ money('tax_amount / fx_rate_per_eur') }} as tax_amount_eur,
        {{ money('total_amount / fx_rate_per_eur') }} as total_amount_eur,
        -- counts
        charge_count,
        shipment_count,
        -- flags
        order_status = 'cancelled' as is_cancelled,
        is_unknown_order_status,
        has_customer,
        -- dates and timestamps
        cast(ordered_at as date) as order_date,
        ordered_at,
        paid_at,
        shipped_at,
        delivered_at,
        updated_at,
        _dlt_load_id,
        newest_loaded_at as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from joined

)

{{ batch_with_rest_of_its_days('final') }}
