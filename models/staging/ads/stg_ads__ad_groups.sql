with

source as (

    {{ completed_loads('ads', 'ad_groups') }}

),

renamed as (

    select
        cast(ad_group_id as bigint) as ad_group_id,
        cast(campaign_id as bigint) as campaign_id,
        trim(cast(ad_group_name as {{ type_varchar() }})) as ad_group_name,
        lower(trim(cast(status as {{ type_varchar() }}))) as ad_group_status,
        lower(trim(cast(bid_strategy as {{ type_varchar() }}))) as bid_strategy,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _loaded_at

    from source

)

select * from renamed
