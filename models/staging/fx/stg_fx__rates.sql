with

source as (

    {{ completed_loads('fx', 'rates') }}

),

renamed as (

    select
        upper(trim(cast(currency as {{ type_varchar() }}))) as currency_code,
        -- units of currency_code per 1 EUR
        cast(rate as numeric(18, 6)) as rate_per_eur,
        cast(rate_date as date) as rate_date,
        _dlt_load_id,
        _loaded_at

    from source

)

select * from renamed
