{#- Fails for rows whose value lies outside [min_value, max_value] (either bound optional). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

with

validated as (

    select {{ column_name }} as value_checked
    from {{ model }}
    where {{ column_name }} is not null

)

select *
from validated
where
    1 = 2
    {%- if min_value is not none %}
        or not value_checked {{ ">=" if inclusive else ">" }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
        or not value_checked {{ "<=" if inclusive else "<" }} {{ max_value }}
    {%- endif %}

{% endtest %}
