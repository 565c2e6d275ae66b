{#- The masked form of a postcode that may leave staging: its first two characters, which
    locate a region without identifying a street. -#}
{% macro postcode_prefix(postcode) -%}
    left(upper(replace({{ postcode }}, ' ', '')), 2)
{%- endmacro %}
