{#- In an incremental run: whether a row's dlt load is newer than the newest load this model
    already holds, less the lookback window (var incremental_lookback_days), so that rows of
    late or retried loads are reprocessed. Outside incremental runs: always true. -#}
{% macro is_newer_load(load_id_column, this_load_id_column='_dlt_load_id') -%}
    {%- if is_incremental() -%}
        cast({{ load_id_column }} as numeric(20, 6)) > (
            select
                coalesce(max(cast({{ this_load_id_column }} as numeric(20, 6))), 0)
                - {{ var('incremental_lookback_days') * 86400 }}
            from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
