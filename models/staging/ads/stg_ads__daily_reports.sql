with

source as (

    {{ completed_loads('ads', 'daily_reports') }}

),

renamed as (

    select
        cast(campaign_id as bigint) as campaign_id,
        upper(trim(cast(currency as {{ type_varchar() }}))) as currency_code,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(platform_conversions as bigint) as platform_conversions,
        {{ money('spend') }} as spend,
        cast(report_date as date) as report_date,
        _dlt_load_id,
        _loaded_at

    from source

)

select * from renamed
