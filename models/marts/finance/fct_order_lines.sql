{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy=incremental_strategy(),
        partition_by=incremental_partition_by('order_date'),
        on_schema_change='append_new_columns',
    )
}}

{#- Grain: one order line. Quantities and amounts in the order's currency and in EUR, with
    the customer and product versions that were valid when the order was placed.
    Incremental: a run recomputes the lines that a load since the last run touched, the lines
    of every order this run rewrote in ods_orders (a new shipping address changes the
    geography without a load of its own), and the lines of the customers and products whose
    versions changed since. -#}
-- the snapshots are read only in incremental runs, to find whose versions changed
-- depends_on: {{ ref('customers_snapshot') }}
-- depends_on: {{ ref('products_snapshot') }}
with

all_order_lines as (

    select * from {{ ref('ods_order_lines') }}

),

orders as (

    select * from {{ ref('ods_orders') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

geography as (

    select * from {{ ref('dim_geography') }}

),

{%- if is_incremental() %}

touched_orders as (

    select orders.order_id
    from orders
    where
        {{ loaded_since_last_run('orders._loaded_at') }}
        or orders.{{ written_by_this_run() }}
        or orders.customer_id in (
            {{ scd2_keys_changed_since_last_run(
                ref('customers_snapshot'), ref('dim_customer'), 'customer_id'
            ) }}
        )

),

changed_products as (

    {{ scd2_keys_changed_since_last_run(
        ref('products_snapshot'), ref('dim_product'), 'product_id'
    ) }}

),

{%- endif %}

order_lines as (

    select *
    from all_order_lines
    {%- if is_incremental() %}
        where
            {{ loaded_since_last_run() }}
            or order_id in (select touched_orders.order_id from touched_orders)
            or product_id in (select changed_products.product_id from changed_products)
    {%- endif %}

),

final as (

    select
        -- keys
        cast({{ generate_surrogate_key(['order_lines.order_line_id']) }} as {{ type_varchar() }})
            as order_line_sk,
        cast(order_lines.order_line_id as bigint) as order_line_id,
        cast(order_lines.order_id as bigint) as order_id,
        cast(orders.order_number as {{ type_varchar() }}) as order_number,
        cast(coalesce(customers.customer_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as customer_sk,
        cast(coalesce(products.product_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as product_sk,
        cast(coalesce(geography.geography_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as geography_sk,
        {{ date_sk('order_lines.order_date') }} as order_date_sk,
        -- attributes
        cast(orders.order_status as {{ type_varchar() }}) as order_status,
        cast(order_lines.currency_code as {{ type_varchar() }}) as currency_code,
        -- measures in the order's currency
        cast(order_lines.quantity as integer) as quantity,
        cast(order_lines.unit_price as numeric(18, 2)) as unit_price,
        cast(order_lines.gross_amount as numeric(18, 2)) as gross_amount,
        cast(order_lines.discount_amount as numeric(18, 2)) as discount_amount,
        cast(order_lines.tax_amount as numeric(18, 2)) as tax_amount,
        cast(order_lines.net_amount as numeric(18, 2)) as net_amount,
        -- measures in EUR
        cast(order_lines.fx_rate_per_eur as numeric(18, 6)) as fx_rate_per_eur,
        cast(order_lines.gross_amount_eur as numeric(18, 2)) as gross_amount_eur,
        cast(order_lines.discount_amount_eur as numeric(18, 2)) as discount_amount_eur,
        cast(order_lines.tax_amount_eur as numeric(18, 2)) as tax_amount_eur,
        cast(order_lines.net_amount_eur as numeric(18, 2)) as net_amount_eur,
        -- flags
        cast(orders.is_cancelled as boolean) as is_cancelled,
        cast(orders.is_unknown_order_status as boolean) as is_unknown_order_status,
        -- an order without its customer and a line without its product are still revenue,
        -- on the unknown member
        cast(orders.has_customer as boolean) as has_customer,
        cast(order_lines.has_product as boolean) as has_product,
        -- dates and timestamps
        cast(order_lines.order_date as date) as order_date,
        cast(order_lines.ordered_at as timestamp) as ordered_at,
        -- the newest load among the line's and its order's
        cast(greatest(order_lines._loaded_at, orders._loaded_at) as timestamp) as _loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join customers
        on
            orders.customer_id = customers.customer_id
            and orders.ordered_at >= customers.valid_from
            and (customers.valid_to is null or orders.ordered_at < customers.valid_to)
    left join products
        on
            order_lines.product_id = products.product_id
            and order_lines.ordered_at >= products.valid_from
            and (products.valid_to is null or order_lines.ordered_at < products.valid_to)
    left join geography
        on orders.shipping_country_code = geography.country_code

)

{{ batch_with_rest_of_its_days('final') }}
