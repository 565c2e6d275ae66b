{{
    config(
        materialized='incremental',
        unique_key=['snapshot_date', 'warehouse_code', 'sku'],
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('snapshot_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one warehouse, product and day. Days of cover is the available stock divided by the
    average units sold per day from that warehouse over the trailing var
    inventory_sales_window_days (including the day); null without sales. A stock-out is a day
    without stock on hand. Incremental: a run recomputes the days whose snapshot arrived or
    changed since the last run, and the days whose trailing window holds an order line that
    changed since (a new, late or changed sale of that product from that warehouse). -#}
with

all_inventory as (

    select * from {{ ref('ods_inventory_snapshots') }}

),

order_lines as (

    select * from {{ ref('ods_order_lines') }}

),

orders as (

    select * from {{ ref('ods_orders') }}

),

countries as (

    select * from {{ ref('countries') }}

),

warehouses as (

    select * from {{ ref('dim_warehouse') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

warehouse_sales as (

    -- every order line with the warehouse that ships to its country, cancelled ones included:
    -- a cancellation changes the days it counted on
    select
        countries.warehouse_code,
        order_lines.product_id,
        order_lines.order_date,
        order_lines.quantity,
        orders.is_cancelled,
        order_lines._loaded_at

    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    inner join countries
        on orders.shipping_country_code = countries.country_code

),

{%- if is_incremental() %}

    changed_sales as (

        select distinct
            warehouse_code,
            product_id,
            order_date

        from warehouse_sales
        where {{ loaded_since_last_run() }}

    ),

{%- endif %}

inventory as (

    -- the days to (re)compute: all of them in a full refresh
    select *
    from all_inventory
    {%- if is_incremental() %}
        where
            {{ loaded_since_last_run() }}
            or exists (
                select 1
                from changed_sales
                where
                    changed_sales.warehouse_code = all_inventory.warehouse_code
                    and changed_sales.product_id = all_inventory.product_id
                    and all_inventory.snapshot_date >= changed_sales.order_date
                    and {{ dbt.dateadd(
                        'day', -1 * var('inventory_sales_window_days'),
                        'all_inventory.snapshot_date',
                    ) }} < changed_sales.order_date
            )
    {%- endif %}

),

daily_units_sold as (

    select
        warehouse_code,
        product_id,
        order_date,
        sum(case when not is_cancelled then quantity else 0 end) as units_sold,
        max(_loaded_at) as _loaded_at

    from warehouse_sales
    group by warehouse_code, product_id, order_date

),

trailing_sales as (

    select
        inventory.warehouse_code,
        inventory.sku,
        inventory.snapshot_date,
        sum(daily_units_sold.units_sold) as units_sold,
        max(daily_units_sold._loaded_at) as _loaded_at

    from inventory
    inner join daily_units_sold
        on
            inventory.warehouse_code = daily_units_sold.warehouse_code
            and inventory.product_id = daily_units_sold.product_id
            and inventory.snapshot_date >= daily_units_sold.order_date
            and {{ dbt.dateadd(
                'day', -1 * var('inventory_sales_window_days'), 'inventory.snapshot_date'
            ) }} < daily_units_sold.order_date
    group by inventory.warehouse_code, inventory.sku, inventory.snapshot_date

),

measured as (

    select
        inventory.*,
        coalesce(trailing_sales.units_sold, 0) as trailing_units_sold,
        greatest(
            inventory._loaded_at, coalesce(trailing_sales._loaded_at, inventory._loaded_at)
        ) as newest_loaded_at,
        cast(coalesce(trailing_sales.units_sold, 0) as numeric(18, 4))
        / {{ var('inventory_sales_window_days') }} as average_daily_units_sold

    from inventory
    left join trailing_sales
        on
            inventory.warehouse_code = trailing_sales.warehouse_code
            and inventory.sku = trailing_sales.sku
            and inventory.snapshot_date = trailing_sales.snapshot_date

),

final as (

    select
        cast(
            {{ generate_surrogate_key([
                'measured.snapshot_date', 'measured.warehouse_code', 'measured.sku',
            ]) }} as {{ type_varchar() }}
        ) as inventory_daily_sk,
        cast(coalesce(warehouses.warehouse_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as warehouse_sk,
        cast(coalesce(products.product_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as product_sk,
        {{ date_sk('measured.snapshot_date') }} as snapshot_date_sk,
        cast(measured.warehouse_code as {{ type_varchar() }}) as warehouse_code,
        cast(measured.sku as {{ type_varchar() }}) as sku,
        cast(measured.on_hand_qty as integer) as on_hand_qty,
        cast(measured.reserved_qty as integer) as reserved_qty,
        cast(measured.inbound_qty as integer) as inbound_qty,
        cast(measured.available_qty as integer) as available_qty,
        cast(measured.trailing_units_sold as integer) as trailing_units_sold,
        cast(measured.average_daily_units_sold as numeric(18, 4))
            as average_daily_units_sold,
        -- available / (units sold / window), rounded half up to a tenth in exact integer
        -- arithmetic: a float division would round boundary values differently per engine
        cast(
            case
                when measured.trailing_units_sold > 0
                    then floor(
                        cast(
                            20 * {{ var('inventory_sales_window_days') }}
                            * measured.available_qty
                            + measured.trailing_units_sold
                            as numeric(18, 0)
                        )
                        / (2 * measured.trailing_units_sold)
                    ) / 10
            end as numeric(18, 1)
        ) as days_of_cover,
        cast(measured.on_hand_qty <= 0 as boolean) as is_stock_out,
        cast(measured.snapshot_date as date) as snapshot_date,
        cast(measured.newest_loaded_at as timestamp) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from measured
    left join warehouses
        on measured.warehouse_code = warehouses.warehouse_code
    left join products
        on
            measured.product_id = products.product_id
            and cast(measured.snapshot_date as timestamp) >= products.valid_from
            and (
                products.valid_to is null
                or cast(measured.snapshot_date as timestamp) < products.valid_to
            )

)

{{ batch_with_rest_of_its_days('final') }}
