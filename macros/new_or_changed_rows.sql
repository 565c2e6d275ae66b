{#- In an incremental run: the rows of a CTE that the model does not hold in this exact
    version yet, i.e. whose key is new or whose load ids differ from the held row's. Comparing
    each row's load ids with the held ones (instead of a time window over load ids) makes the
    run reprocess exactly what a full refresh could compute differently, however recent the
    older loads are. Outside incremental runs, and when the held table lacks one of the
    columns (it predates them; on_schema_change adds them), every row. -#}
{% macro new_or_changed_rows(cte_name, unique_key, load_id_columns) -%}
    {%- set held_columns = [] -%}
    {%- if execute and is_incremental() -%}
        {%- for column in adapter.get_columns_in_relation(this) -%}
            {%- do held_columns.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set missing_columns = [] -%}
    {%- for column in [unique_key] + load_id_columns if column | lower not in held_columns -%}
        {%- do missing_columns.append(column) -%}
    {%- endfor %}
    select *
    from {{ cte_name }}
    {%- if is_incremental() and not missing_columns %}
        where not exists (
            select 1
            from {{ this }} as processed
            where
                processed.{{ unique_key }} = {{ cte_name }}.{{ unique_key }}
                {%- for load_id_column in load_id_columns %}
                    and processed.{{ load_id_column }}
                    is not distinct from {{ cte_name }}.{{ load_id_column }}
                {%- endfor %}
        )
    {%- endif %}
{%- endmacro %}
