{#- MetricFlow's daily time spine: the days of dim_date, so that the semantic layer and the
    marts share one calendar (vars calendar_start_date to calendar_end_date). In an existing
    schema because PostgreSQL's transformer role may create none (warehouse/postgres.py), and
    granted to the reporting role like the marts, since it is part of every mf query. -#}
{{ config(schema='core') }}
with

calendar as (

    select * from {{ ref('dim_date') }}

),

final as (

    select cast(date_day as date) as date_day

    from calendar

)

select * from final
