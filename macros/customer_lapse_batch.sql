{#- What an incremental run of fct_customer_lapse_features recomputes, as CTEs over the model's
    own `order_lines`, `customers`, `lapse_windows` and `observed_days`:
    - `touched_customers`: those whose order lines or versions a load since the last run touched
      (a new, late or changed order, a late exchange rate, a new version, an erasure), on every
      snapshot date;
    - `recomputed_snapshots`: the snapshot dates the new days changed for every customer, one the
      warehouse did not hold and one whose lapse window the last order day now covers (its label
      goes from empty to known);
    - `batch_customers`: the customers whose orders the run reads.
    Nothing else changes a row: an order's customer and placement time never change (the shop
    amends an order's status and address). Nothing in a full build, which computes every row. -#}
{% macro customer_lapse_batch() -%}
{%- if is_incremental() %}

touched_customers as (

    select customers.customer_id
    from order_lines
    inner join customers
        on order_lines.customer_sk = customers.customer_sk
    where {{ loaded_since_last_run('order_lines._loaded_at') }}
    union
    {{ scd2_keys_changed_since_last_run(
        ref('customers_snapshot'), ref('dim_customer'), 'customer_id'
    ) }}

),

recomputed_snapshots as (

    select lapse_windows.snapshot_date
    from lapse_windows
    cross join observed_days
    where
        lapse_windows.snapshot_date not in (select held.snapshot_date from {{ this }} as held)
        or (
            lapse_windows.lapse_window_end_date <= observed_days.last_order_date
            and lapse_windows.snapshot_date in (
                select held.snapshot_date
                from {{ this }} as held
                where held.has_ordered_in_lapse_window is null
            )
        )

),

-- every customer when a snapshot date is recomputed for all
batch_customers as (

    select touched_customers.customer_id
    from touched_customers
    union
    select customers.customer_id
    from customers
    where exists (select 1 from recomputed_snapshots)

),

{%- endif %}
{%- endmacro %}

{#- In an incremental run, the condition that keeps the pairs of `orders` (a CTE of the model)
    and snapshot dates (`snapshot_date`, a column) that the run recomputes; nothing in a full
    build. -#}
{% macro in_customer_lapse_batch(snapshot_date) -%}
{%- if is_incremental() %}
    where
        orders.customer_id in (select touched_customers.customer_id from touched_customers)
        or {{ snapshot_date }} in (
            select recomputed_snapshots.snapshot_date from recomputed_snapshots
        )
{%- endif %}
{%- endmacro %}
