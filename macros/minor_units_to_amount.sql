{#- An integer amount in minor units (cents, pence) as a decimal amount in major units. -#}
{% macro minor_units_to_amount(column_name, minor_unit_digits=2) -%}
    cast(
        cast({{ column_name }} as numeric(18, 0)) / {{ 10 ** minor_unit_digits }}
        as numeric(18, {{ minor_unit_digits }})
    )
{%- endmacro %}
