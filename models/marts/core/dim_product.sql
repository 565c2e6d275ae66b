{#- Products as SCD2: one row per version of price, category and status from
    products_snapshot, with the category's current name, department and revenue category.
    The first version is valid from the beginning of time. Includes the unknown member. -#}
with

products_snapshot as (

    select * from {{ ref('products_snapshot') }}

),

category_deliveries as (

    select * from {{ ref('stg_shop__product_categories') }}

),

revenue_categories as (

    select * from {{ ref('revenue_categories') }}

),

categories as (

    -- the categories are re-read in every load: the latest version of each
    {{ deduplicate('category_deliveries', 'category_id', 'updated_at desc, _dlt_load_id desc') }}

),

versions as (

    select
        *,
        row_number() over (partition by product_id order by dbt_valid_from) as version_number

    from products_snapshot

),

final as (

    select
        cast(
            {{ generate_surrogate_key(['versions.product_id', 'versions.dbt_valid_from']) }}
            as {{ type_varchar() }}
        ) as product_sk,
        cast(versions.product_id as bigint) as product_id,
        cast(versions.category_id as bigint) as category_id,
        cast(versions.sku as {{ type_varchar() }}) as sku,
        cast(versions.product_name as {{ type_varchar() }}) as product_name,
        cast(versions.product_status as {{ type_varchar() }}) as product_status,
        cast(categories.category_name as {{ type_varchar() }}) as category_name,
        cast(categories.department as {{ type_varchar() }}) as department,
        cast(coalesce(revenue_categories.revenue_category, 'other') as {{ type_varchar() }})
            as revenue_category,
        cast(versions.list_price_eur as numeric(18, 2)) as list_price_eur,
        cast(versions.unit_cost_eur as numeric(18, 2)) as unit_cost_eur,
        cast(versions.weight_kg as numeric(10, 3)) as weight_kg,
        cast(versions.version_number as integer) as version_number,
        cast(versions.dbt_valid_to is null as boolean) as is_current,
        cast(
            {{ scd2_valid_from('versions.version_number', 'versions.dbt_valid_from') }}
            as timestamp
        ) as valid_from,
        cast(versions.dbt_valid_to as timestamp) as valid_to

    from versions
    left join categories
        on versions.category_id = categories.category_id
    left join revenue_categories
        on categories.department = revenue_categories.department

    union all

    select
        cast({{ unknown_member_key() }} as {{ type_varchar() }}) as product_sk,
        cast(null as bigint) as product_id,
        cast(null as bigint) as category_id,
        cast(null as {{ type_varchar() }}) as sku,
        cast('Unknown' as {{ type_varchar() }}) as product_name,
        cast(null as {{ type_varchar() }}) as product_status,
        cast(null as {{ type_varchar() }}) as category_name,
        cast(null as {{ type_varchar() }}) as department,
        cast('other' as {{ type_varchar() }}) as revenue_category,
        cast(null as numeric(18, 2)) as list_price_eur,
        cast(null as numeric(18, 2)) as unit_cost_eur,
        cast(null as numeric(10, 3)) as weight_kg,
        cast(1 as integer) as version_number,
        cast(true as boolean) as is_current,
        {{ beginning_of_time() }} as valid_from,
        cast(null as timestamp) as valid_to

)

select * from final
