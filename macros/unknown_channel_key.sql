{#- The key of the "unknown" channel in dim_channel (a seeded channel, not a -1 member, because
    unknown is a real answer of attribution), for facts whose channel matches no row. -#}
{% macro unknown_channel_key() -%}
    {{ generate_surrogate_key(["'unknown'"]) }}
{%- endmacro %}
