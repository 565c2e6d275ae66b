{#- Fails when the newest value of a timestamp column is older than interval datepart units
    before now (or before the optional reference expression). -#}
{% test recency(model, field, datepart, interval, reference=none) %}

{%- set reference_expression = reference if reference is not none
    else dbt.current_timestamp() %}

with

newest as (

    select max({{ field }}) as newest_value
    from {{ model }}

)

select *
from newest
where
    newest_value is null
    or newest_value < {{ dbt.dateadd(datepart, -1 * interval, reference_expression) }}

{% endtest %}
