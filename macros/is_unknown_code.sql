{#- True when a coded column holds a value its source does not document (var source_codes):
    such a record is still real, so it lands with the code kept and this flag set. A missing
    code is not unknown, only absent. -#}
{% macro is_unknown_code(column, code_list) -%}
    {%- set codes = var('source_codes')[code_list] -%}
    coalesce({{ column }} not in (
        {%- for code in codes %}'{{ code }}'{{ ", " if not loop.last }}{% endfor -%}
    ), false)
{%- endmacro %}
