{#- Customers as SCD2: one row per version from customers_snapshot. A customer's first version
    is valid from the beginning of time, so that facts before the first snapshot still find a
    version; the last version of an erased customer is closed at the erasure. Includes the
    unknown member for facts whose customer is unknown. -#}
with

customers_snapshot as (

    select * from {{ ref('customers_snapshot') }}

),

geography as (

    select * from {{ ref('dim_geography') }}

),

versions as (

    select
        *,
        row_number() over (partition by customer_id order by dbt_valid_from) as version_number,
        row_number() over (
            partition by customer_id order by dbt_valid_from desc
        ) as reverse_version_number

    from customers_snapshot

),

final as (

    select
        cast(
            {{ generate_surrogate_key(['versions.customer_id', 'versions.dbt_valid_from']) }}
            as varchar
        ) as customer_sk,
        cast(versions.customer_id as bigint) as customer_id,
        cast(coalesce(geography.geography_sk, {{ unknown_member_key() }}) as varchar)
            as geography_sk,
        cast(versions.segment as varchar) as segment,
        cast(versions.country_code as varchar) as country_code,
        cast(versions.postcode_prefix as varchar) as postcode_prefix,
        cast(versions.version_number as integer) as version_number,
        cast(versions.has_marketing_consent as boolean) as has_marketing_consent,
        cast(versions.dbt_valid_to is null as boolean) as is_current,
        cast(
            versions.reverse_version_number = 1 and versions.dbt_valid_to is not null
            as boolean
        ) as is_erased,
        cast(versions.created_at as timestamp) as customer_created_at,
        cast(
            case
                when versions.version_number = 1 then cast('1900-01-01' as timestamp)
                else versions.dbt_valid_from
            end as timestamp
        ) as valid_from,
        cast(versions.dbt_valid_to as timestamp) as valid_to

    from versions
    left join geography
        on versions.country_code = geography.country_code

    union all

    select
        cast({{ unknown_member_key() }} as varchar) as customer_sk,
        cast(null as bigint) as customer_id,
        cast({{ unknown_member_key() }} as varchar) as geography_sk,
        cast('unknown' as varchar) as segment,
        cast(null as varchar) as country_code,
        cast(null as varchar) as postcode_prefix,
        cast(1 as integer) as version_number,
        cast(false as boolean) as has_marketing_consent,
        cast(true as boolean) as is_current,
        cast(false as boolean) as is_erased,
        cast(null as timestamp) as customer_created_at,
        cast('1900-01-01' as timestamp) as valid_from,
        cast(null as timestamp) as valid_to

)

select * from final
