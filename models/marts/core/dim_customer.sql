{#- Customers as SCD2: one row per version from customers_snapshot. A customer's first version
    is valid from the beginning of time, so that facts before the first snapshot still find a
    version. The shop hard-deletes a customer erased on request, so the warehouse learns of it
    only by a load that no longer has the customer: their last version ends when that load
    landed (the latest completed shop load when the snapshot closed the version), not when
    the build ran. A customer missing from one read and back in a later one (an empty read
    accepted by mistake) is current again. Includes the unknown member for facts whose
    customer is unknown. -#}
with

customers_snapshot as (

    select * from {{ ref('customers_snapshot') }}

),

shop_loads as (

    select * from {{ ref('stg_shop__loads') }}

),

geography as (

    select * from {{ ref('dim_geography') }}

),

-- A customer back after a read without them returns with the updated_at they had, and the
-- snapshot inserts that version again: the closed row and its reopened copy share
-- dbt_valid_from. They are one version, open if the copy is.
distinct_versions as (

    {{ deduplicate(
        'customers_snapshot',
        'customer_id, dbt_valid_from',
        'dbt_valid_to is null desc, dbt_valid_to desc',
    ) }}

),

versions as (

    select
        *,
        row_number() over (partition by customer_id order by dbt_valid_from) as version_number,
        lead(dbt_valid_from) over (
            partition by customer_id order by dbt_valid_from
        ) as next_valid_from

    from distinct_versions

),

-- A last version the snapshot closed: the customer was no longer in the shop. The snapshot
-- closes it at the build's clock; the load that build read is the one that first missed them.
erasures as (

    select
        versions.customer_id,
        max(shop_loads.loaded_at) as erased_at

    from versions
    inner join shop_loads
        on shop_loads.loaded_at <= {{ to_utc_timestamp('versions.dbt_valid_to') }}
    where versions.next_valid_from is null and versions.dbt_valid_to is not null
    group by versions.customer_id

),

final as (

    select
        cast(
            {{ generate_surrogate_key(['versions.customer_id', 'versions.dbt_valid_from']) }}
            as {{ type_varchar() }}
        ) as customer_sk,
        cast(versions.customer_id as bigint) as customer_id,
        cast(coalesce(geography.geography_sk, {{ unknown_member_key() }}) as {{ type_varchar() }})
            as geography_sk,
        cast(versions.segment as {{ type_varchar() }}) as segment,
        cast(versions.country_code as {{ type_varchar() }}) as country_code,
        cast(versions.postcode_prefix as {{ type_varchar() }}) as postcode_prefix,
        cast(versions.version_number as integer) as version_number,
        cast(versions.has_marketing_consent as boolean) as has_marketing_consent,
        cast(
            versions.next_valid_from is null and versions.dbt_valid_to is null as boolean
        ) as is_current,
        cast(
            versions.next_valid_from is null and versions.dbt_valid_to is not null as boolean
        ) as is_erased,
        cast(versions.created_at as timestamp) as customer_created_at,
        cast(
            {{ scd2_valid_from('versions.version_number', 'versions.dbt_valid_from') }}
            as timestamp
        ) as valid_from,
        cast(
            coalesce(versions.next_valid_from, erasures.erased_at, versions.dbt_valid_to)
            as timestamp
        ) as valid_to

    from versions
    left join geography
        on versions.country_code = geography.country_code
    left join erasures
        on
            versions.customer_id = erasures.customer_id
            and versions.next_valid_from is null

    union all

    select
        cast({{ unknown_member_key() }} as {{ type_varchar() }}) as customer_sk,
        cast(null as bigint) as customer_id,
        cast({{ unknown_member_key() }} as {{ type_varchar() }}) as geography_sk,
        cast('unknown' as {{ type_varchar() }}) as segment,
        cast(null as {{ type_varchar() }}) as country_code,
        cast(null as {{ type_varchar() }}) as postcode_prefix,
        cast(1 as integer) as version_number,
        cast(false as boolean) as has_marketing_consent,
        cast(true as boolean) as is_current,
        cast(false as boolean) as is_erased,
        cast(null as timestamp) as customer_created_at,
        {{ beginning_of_time() }} as valid_from,
        cast(null as timestamp) as valid_to

)

select * from final
