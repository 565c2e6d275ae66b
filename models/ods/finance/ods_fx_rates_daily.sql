{#- One rate per currency and calendar day: the reference rate of the day, or the last
    business day's rate carried forward over weekends and holidays. Days before the first
    published rate take the first rate, so that no amount goes without a conversion. -#}
with

rate_deliveries as (

    select * from {{ ref('stg_fx__rates') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

calendar as (

    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('calendar_start_date') ~ "' as date)",
        dbt.dateadd('day', 1, "cast('" ~ var('calendar_end_date') ~ "' as date)"),
    ) }}

),

calendar_days as (

    select cast(date_day as date) as rate_date
    from calendar

),

rates as (

    -- a rate re-sent by a later window appears once per delivery: the latest load's counts
    {{ deduplicate('rate_deliveries', 'currency_code, rate_date', '_dlt_load_id desc') }}

),

rate_periods as (

    select
        currency_code,
        rate_per_eur,
        rate_date as source_rate_date,
        case
            when row_number() over (partition by currency_code order by rate_date) = 1
                then cast('{{ var("calendar_start_date") }}' as date)
            else rate_date
        end as valid_from_date,
        lead(rate_date) over (
            partition by currency_code order by rate_date
        ) as valid_to_date,
        _dlt_load_id,
        _loaded_at

    from rates
    where currency_code != '{{ var("reporting_currency") }}'

),

foreign_currency_days as (

    select
        rate_periods.currency_code,
        rate_periods.rate_per_eur,
        rate_periods.source_rate_date,
        calendar_days.rate_date,
        rate_periods._dlt_load_id,
        rate_periods._loaded_at

    from calendar_days
    inner join rate_periods
        on
            calendar_days.rate_date >= rate_periods.valid_from_date
            and (
                rate_periods.valid_to_date is null
                or calendar_days.rate_date < rate_periods.valid_to_date
            )

),

reporting_currency_days as (

    select
        currencies.currency_code,
        cast(1 as numeric(18, 6)) as rate_per_eur,
        calendar_days.rate_date as source_rate_date,
        calendar_days.rate_date,
        cast(null as {{ type_varchar() }}) as _dlt_load_id,
        cast(null as timestamp) as _loaded_at

    from calendar_days
    cross join currencies
    where currencies.is_reporting_currency

),

final as (

    select
        currency_code,
        rate_per_eur,
        rate_date,
        source_rate_date,
        rate_date != source_rate_date as is_carried_forward,
        _dlt_load_id,
        _loaded_at
    from foreign_currency_days

    union all

    select
        currency_code,
        rate_per_eur,
        rate_date,
        source_rate_date,
        false as is_carried_forward,
        _dlt_load_id,
        _loaded_at
    from reporting_currency_days

)

select * from final
