{#- One row per calendar day (vars calendar_start_date to calendar_end_date) with calendar,
    fiscal (year starting in month var fiscal_year_start_month) and public holiday attributes. -#}
with

calendar as (

    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('calendar_start_date') ~ "' as date)",
        dbt.dateadd('day', 1, "cast('" ~ var('calendar_end_date') ~ "' as date)"),
    ) }}

),

public_holidays as (

    select * from {{ ref('public_holidays') }}

),

holidays_by_day as (

    select
        holiday_date,
        count(*) as holiday_country_count,
        {{ sorted_listagg('country_code', "','") }}
            as holiday_country_codes

    from public_holidays
    group by holiday_date

),

days as (

    select
        cast(date_day as date) as date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast({{ iso_day_of_week('date_day') }} as integer) as day_of_week,
        cast(extract(week from date_day) as integer) as iso_week_number

    from calendar

),

fiscal as (

    select
        *,
        case
            when month_number >= {{ var('fiscal_year_start_month') }} then year_number
            else year_number - 1
        end as fiscal_year,
        mod(month_number - {{ var('fiscal_year_start_month') }} + 12, 12) + 1 as fiscal_month

    from days

),

final as (

    select
        {{ date_sk('fiscal.date_day') }} as date_sk,
        fiscal.date_day,
        cast(case fiscal.month_number
            when 1 then 'January' when 2 then 'February' when 3 then 'March'
            when 4 then 'April' when 5 then 'May' when 6 then 'June'
            when 7 then 'July' when 8 then 'August' when 9 then 'September'
            when 10 then 'October' when 11 then 'November' else 'December'
        end as {{ type_varchar() }}) as month_name,
        cast(case fiscal.day_of_week
            when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday'
            when 4 then 'Thursday' when 5 then 'Friday' when 6 then 'Saturday'
            else 'Sunday'
        end as {{ type_varchar() }}) as day_name,
        cast(holidays_by_day.holiday_country_codes as {{ type_varchar() }})
            as holiday_country_codes,
        fiscal.year_number,
        fiscal.quarter_number,
        fiscal.month_number,
        fiscal.day_of_month,
        fiscal.day_of_week,
        fiscal.iso_week_number,
        cast(fiscal.fiscal_year as integer) as fiscal_year,
        -- floor() because DuckDB's "/" divides integers as floats, PostgreSQL's truncates
        cast(floor((fiscal.fiscal_month - 1) / 3) + 1 as integer) as fiscal_quarter,
        cast(fiscal.fiscal_month as integer) as fiscal_month,
        cast(coalesce(holidays_by_day.holiday_country_count, 0) as integer)
            as holiday_country_count,
        cast(fiscal.day_of_week in (6, 7) as boolean) as is_weekend,
        cast(holidays_by_day.holiday_date is not null as boolean)
            as is_public_holiday_anywhere,
        cast({{ dbt.date_trunc('month', 'fiscal.date_day') }} as date) as month_start_date

    from fiscal
    left join holidays_by_day
        on fiscal.date_day = holidays_by_day.holiday_date

)

select * from final
