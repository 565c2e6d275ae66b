{#- The keys of an SCD2 dimension whose versions changed since the calling incremental model's
    last run, so that it can recompute the facts that join them by validity time: a new
    version (the snapshot row's `_loaded_at`, the load that brought it, is newer than the
    model's watermark) moves the facts after its start to it; a version closed by a load
    (an erasure or removal, whose valid_to is that load's time) drops the facts after its end
    to the unknown member. The snapshot records `_loaded_at` only when it inserts a version,
    so a source reloaded whole every day does not touch every key. -#}
{% macro scd2_keys_changed_since_last_run(snapshot_relation, dimension_relation, key) -%}
    select {{ key }}
    from {{ snapshot_relation }}
    where {{ loaded_since_last_run() }}
    union
    select {{ key }}
    from {{ dimension_relation }}
    where valid_to > {{ last_loaded_at() }}
{%- endmacro %}
