{#- The surrogate key of a dimension's "unknown" member, used by facts whose natural key
    matches no dimension row (a deleted customer, an order without a session). -#}
{% macro unknown_member_key() -%}
    '{{ var("unknown_member_key") }}'
{%- endmacro %}
