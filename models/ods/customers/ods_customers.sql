{#- Current customers, integrated: the shop's customer with the masked default shipping
    address, the payment processor's profile (matched on the keyed email hash) and the web
    visitors they logged in as. Personal data stay in staging. -#}
with

customer_deliveries as (

    select * from {{ ref('stg_shop__customers') }}

),

address_deliveries as (

    select * from {{ ref('stg_shop__addresses') }}

),

payments as (

    select * from {{ ref('ods_payments') }}

),

web_identities as (

    select * from {{ ref('ods_web_identities') }}

),

customers as (

    {{ deduplicate('customer_deliveries', 'customer_id', 'updated_at desc, _dlt_load_id desc') }}

),

addresses as (

    {{ deduplicate('address_deliveries', 'address_id', 'updated_at desc, _dlt_load_id desc') }}

),

shipping_addresses as (

    select
        customer_id,
        country_code,
        {{ postcode_prefix('postcode') }} as postcode_prefix,
        -- detects a move without holding the address
        {{ hash_pii(dbt.concat([
            "coalesce(line1, '')", "'|'", "coalesce(line2, '')", "'|'", "coalesce(city, '')",
            "'|'", "coalesce(postcode, '')", "'|'", "coalesce(country_code, '')",
        ])) }} as address_hash,
        is_default,
        updated_at,
        _loaded_at

    from addresses
    where address_type = 'shipping'

),

default_shipping_addresses as (

    {{ deduplicate(
        'shipping_addresses', 'customer_id', 'is_default desc, updated_at desc, address_hash'
    ) }}

),

payment_profiles as (

    select
        customer_email_hash,
        count(*) as charge_count,
        min(created_at) as first_charged_at

    from payments
    group by customer_email_hash

),

visitor_profiles as (

    select
        customer_id,
        count(distinct anonymous_id) as web_visitor_count,
        min(first_seen_at) as first_web_seen_at

    from web_identities
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.email_hash,
        customers.segment,
        default_shipping_addresses.country_code,
        default_shipping_addresses.postcode_prefix,
        default_shipping_addresses.address_hash,
        coalesce(payment_profiles.charge_count, 0) as payment_charge_count,
        coalesce(visitor_profiles.web_visitor_count, 0) as web_visitor_count,
        customers.has_marketing_consent,
        payment_profiles.customer_email_hash is not null as has_payment_profile,
        customers.created_at,
        payment_profiles.first_charged_at,
        visitor_profiles.first_web_seen_at,
        case
            when default_shipping_addresses.updated_at > customers.updated_at
                then default_shipping_addresses.updated_at
            else customers.updated_at
        end as updated_at,
        -- the newest load among the customer's and the address's; customers_snapshot keeps
        -- it on the versions it inserts, which dates each version's arrival for the facts
        greatest(
            customers._loaded_at,
            coalesce(default_shipping_addresses._loaded_at, customers._loaded_at)
        ) as _loaded_at

    from customers
    left join default_shipping_addresses
        on customers.customer_id = default_shipping_addresses.customer_id
    left join payment_profiles
        on customers.email_hash = payment_profiles.customer_email_hash
    left join visitor_profiles
        on customers.customer_id = visitor_profiles.customer_id

)

select * from final
