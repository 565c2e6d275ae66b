{#- Fails for rows where the SQL expression is not true (optionally only where a condition
    holds). On a column, the expression is appended to the column name. -#}
{% test expression_is_true(model, expression, column_name=none, where_condition=none) %}

select *
from {{ model }}
where
    not coalesce(
        {%- if column_name is none %} {{ expression }}
        {%- else %} {{ column_name }} {{ expression }}
        {%- endif %}, false
    )
    {%- if where_condition is not none %}
        and ({{ where_condition }})
    {%- endif %}

{% endtest %}
