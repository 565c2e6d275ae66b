{#- The completed loads of the shop, one row each: when each read of the shop landed. The
    customers dimension dates an erasure by the load that first no longer had the customer. -#}
with

source as (

    select * from {{ source('shop', '_dlt_loads') }}

),

renamed as (

    select
        load_id,
        {{ to_utc_timestamp('inserted_at') }} as loaded_at

    from source
    where status = 0

)

select * from renamed
