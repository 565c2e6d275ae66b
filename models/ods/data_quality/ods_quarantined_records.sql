{#- Every source's quarantined records in one place, for data-quality reporting. The raw
    payload can hold personal data, so it stays in the staging models. -#}
with

shop_quarantine as (

    select * from {{ ref('stg_shop__quarantined_records') }}

),

payments_quarantine as (

    select * from {{ ref('stg_payments__quarantined_records') }}

),

ads_quarantine as (

    select * from {{ ref('stg_ads__quarantined_records') }}

),

fx_quarantine as (

    select * from {{ ref('stg_fx__quarantined_records') }}

),

web_quarantine as (

    select * from {{ ref('stg_web__quarantined_records') }}

),

logistics_quarantine as (

    select * from {{ ref('stg_logistics__quarantined_records') }}

),

unioned as (

    select * from shop_quarantine
    union all
    select * from payments_quarantine
    union all
    select * from ads_quarantine
    union all
    select * from fx_quarantine
    union all
    select * from web_quarantine
    union all
    select * from logistics_quarantine

),

deduplicated as (

    -- a record the loader rejects again in a later load appears once per load: the latest
    {{ deduplicate('unioned', 'source_system, quarantine_id', '_dlt_load_id desc') }}

),

final as (

    select
        {{ generate_surrogate_key(['source_system', 'quarantine_id']) }}
            as quarantined_record_id,
        quarantine_id,
        source_system,
        source_table,
        reason,
        -- the check that failed, without the column: null_required_field, invalid_json, ...
        split_part(reason, ':', 1) as reason_kind,
        source_location,
        _dlt_load_id

    from deduplicated

)

select * from final
