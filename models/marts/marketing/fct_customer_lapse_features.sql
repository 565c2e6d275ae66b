{{
    config(
        materialized='incremental',
        unique_key='customer_lapse_feature_sk',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('snapshot_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one customer on one snapshot date (the start of each month by default), for every
    customer who had ordered before that date and still had a customer record then. Features
    read only orders placed before the snapshot date and the customer version valid at it;
    the label looks at the lapse window that starts on the snapshot date, and is empty until
    the warehouse holds orders from every day of that window.
    Incremental: a run recomputes the customers whose orders or versions changed, on every
    snapshot date, and every customer on the snapshot dates the new days changed (macro
    customer_lapse_batch). Changing either var below needs a full refresh. -#}
-- the snapshot is read only in incremental runs, to find whose versions changed
-- depends_on: {{ ref('customers_snapshot') }}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

-- The days the warehouse holds orders for, from every customer (known or not). The last day
-- may be incomplete, so only windows ending by its start count as observed.
observed_days as (

    select
        min(order_lines.order_date) as first_order_date,
        max(order_lines.order_date) as last_order_date

    from order_lines

),

snapshot_dates as (

    select calendar.date_day as snapshot_date

    from calendar
    cross join observed_days
    where
        calendar.date_day
        = cast(
            {{ dbt.date_trunc(var('customer_feature_snapshot_period'), 'calendar.date_day') }}
            as date
        )
        and calendar.date_day > observed_days.first_order_date
        and calendar.date_day <= observed_days.last_order_date

),

lapse_windows as (

    select
        snapshot_date,
        cast(
            {{ dbt.dateadd('day', var('customer_lapse_window_days'), 'snapshot_date') }}
            as date
        ) as lapse_window_end_date

    from snapshot_dates

),

{{ customer_lapse_batch() }}

-- Every order placed counts, whatever its status now: whether an order will be cancelled is
-- not known when it is placed, and the marts keep only an order's current status.
orders as (

    select
        customers.customer_id,
        order_lines.order_id,
        min(order_lines.ordered_at) as ordered_at,
        sum(order_lines.net_amount_eur) as net_amount_eur,
        max(order_lines._loaded_at) as loaded_at

    from order_lines
    inner join customers
        on order_lines.customer_sk = customers.customer_sk
    where
        customers.customer_id is not null
    {%- if is_incremental() %}
        and customers.customer_id in (
            select batch_customers.customer_id from batch_customers
        )
    {%- endif %}
    group by customers.customer_id, order_lines.order_id

),

-- What a customer had ordered before the snapshot date (midnight UTC starting it).
order_history as (

    select
        snapshot_dates.snapshot_date,
        orders.customer_id,
        count(*) as order_count,
        sum(
            case
                when
                    orders.ordered_at
                    >= {{ dbt.dateadd('day', -90, 'snapshot_dates.snapshot_date') }}
                    then 1
                else 0
            end
        ) as order_count_last_90_days,
        coalesce(sum(orders.net_amount_eur), 0) as ordered_net_amount_eur,
        min(orders.ordered_at) as first_ordered_at,
        max(orders.ordered_at) as last_ordered_at,
        max(orders.loaded_at) as loaded_at

    from snapshot_dates
    inner join orders
        on snapshot_dates.snapshot_date > orders.ordered_at
    {{ in_customer_lapse_batch('snapshot_dates.snapshot_date') }}
    group by snapshot_dates.snapshot_date, orders.customer_id

),

window_orders as (

    select
        lapse_windows.snapshot_date,
        orders.customer_id,
        count(*) as order_count,
        max(orders.loaded_at) as loaded_at

    from lapse_windows
    inner join orders
        on
            lapse_windows.snapshot_date <= orders.ordered_at
            and lapse_windows.lapse_window_end_date > orders.ordered_at
    {{ in_customer_lapse_batch('lapse_windows.snapshot_date') }}
    group by lapse_windows.snapshot_date, orders.customer_id

),

final as (

    select
        -- keys
        cast(
            {{ generate_surrogate_key([
                'order_history.customer_id', 'order_history.snapshot_date'
            ]) }} as {{ type_varchar() }}
        ) as customer_lapse_feature_sk,
        cast(order_history.customer_id as bigint) as customer_id,
        cast(customers.customer_sk as {{ type_varchar() }}) as customer_sk,
        {{ date_sk('order_history.snapshot_date') }} as snapshot_date_sk,
        -- the customer as they were at the snapshot date
        cast(customers.segment as {{ type_varchar() }}) as segment,
        cast(customers.country_code as {{ type_varchar() }}) as country_code,
        -- recency, frequency, monetary and tenure at the snapshot date
        cast(
            {{ dbt.datediff(
                'cast(order_history.last_ordered_at as date)',
                'order_history.snapshot_date',
                'day'
            ) }} as integer
        ) as days_since_last_order,
        cast(
            {{ dbt.datediff(
                'cast(order_history.first_ordered_at as date)',
                'order_history.snapshot_date',
                'day'
            ) }} as integer
        ) as days_since_first_order,
        cast(
            {{ dbt.datediff(
                'cast(customers.customer_created_at as date)',
                'order_history.snapshot_date',
                'day'
            ) }} as integer
        ) as tenure_days,
        cast(order_history.order_count as integer) as order_count,
        cast(order_history.order_count_last_90_days as integer) as order_count_last_90_days,
        cast(order_history.ordered_net_amount_eur as numeric(18, 2)) as ordered_net_amount_eur,
        -- the mean rounded half up to the cent in exact integer arithmetic: a float division
        -- would round boundary values differently per engine
        cast(
            floor(
                cast(
                    200 * order_history.ordered_net_amount_eur + order_history.order_count
                    as numeric(18, 0)
                )
                / (2 * order_history.order_count)
            ) / 100 as numeric(18, 2)
        ) as average_order_net_amount_eur,
        cast(customers.has_marketing_consent as boolean) as has_marketing_consent,
        -- the label: empty while the window's orders are not all in the warehouse
        cast(
            case
                when lapse_windows.lapse_window_end_date <= observed_days.last_order_date
                    then window_orders.order_count is not null
            end as boolean
        ) as has_ordered_in_lapse_window,
        -- dates
        cast(order_history.snapshot_date as date) as snapshot_date,
        cast(order_history.first_ordered_at as date) as first_order_date,
        cast(order_history.last_ordered_at as date) as last_order_date,
        cast(lapse_windows.lapse_window_end_date as date) as lapse_window_end_date,
        cast(
            greatest(
                order_history.loaded_at,
                coalesce(window_orders.loaded_at, order_history.loaded_at)
            ) as timestamp
        ) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from order_history
    -- the version valid at the snapshot's first instant; an erased customer has none after
    -- their erasure and leaves the table from then on
    inner join customers
        on
            order_history.customer_id = customers.customer_id
            and order_history.snapshot_date >= customers.valid_from
            and (
                customers.valid_to is null
                or order_history.snapshot_date < customers.valid_to
            )
    inner join lapse_windows
        on order_history.snapshot_date = lapse_windows.snapshot_date
    cross join observed_days
    left join window_orders
        on
            order_history.snapshot_date = window_orders.snapshot_date
            and order_history.customer_id = window_orders.customer_id

)

{{ batch_with_rest_of_its_days('final') }}
