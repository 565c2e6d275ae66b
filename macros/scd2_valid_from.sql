{#- When a version of an SCD2 dimension member starts: its snapshot's dbt_valid_from, except
    that the first version starts at the beginning of time. -#}
{% macro scd2_valid_from(version_number, dbt_valid_from) -%}
    case
        when {{ version_number }} = 1 then {{ beginning_of_time() }}
        else {{ dbt_valid_from }}
    end
{%- endmacro %}
