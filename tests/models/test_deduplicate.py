"""deduplicate's implementations keep the same rows: the default (qualify, for the warehouses
that have it) runs on DuckDB too, so it is checked against the distinct on that builds the
warehouse."""

import json
from pathlib import Path

from warehouse.dbt import dbt_command, run_dbt_process
from warehouse.settings import resolve_paths

# Keys 1 and 2 have two rows each; the one with the highest version is kept.
ROWS = "(1, 1, 'old'), (1, 2, 'new'), (2, 5, 'new'), (2, 3, 'old'), (3, 1, 'only')"
QUERY = f"""
with rows as (select * from (values {ROWS}) as listed (row_key, version, label)),
{{% for implementation in ['default__deduplicate', 'duckdb__deduplicate'] %}}
{{{{ implementation }}}} as (
    {{{{ context[implementation]('rows', 'row_key', 'version desc') }}}}
),
{{% endfor %}}
kept as (
    select 'default__deduplicate' as implementation, * from default__deduplicate
    union all
    select 'duckdb__deduplicate' as implementation, * from duckdb__deduplicate
)
select * from kept order by implementation, row_key
"""


def test_default_and_duckdb_deduplicate_keep_the_same_rows(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path, tmp_path / "warehouse.duckdb")
    command = dbt_command(
        ["show", "--inline", QUERY, "--limit", "-1", "--output", "json", "--quiet"], paths
    )
    completed = run_dbt_process(command, paths, capture=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    kept = json.loads(completed.stdout[completed.stdout.index("{") :])["show"]
    expected = [
        {"row_key": 1, "version": 2, "label": "new"},
        {"row_key": 2, "version": 5, "label": "new"},
        {"row_key": 3, "version": 1, "label": "only"},
    ]
    assert [row for row in kept if row["implementation"] == "default__deduplicate"] == [
        {"implementation": "default__deduplicate", **row} for row in expected
    ]
    assert [row for row in kept if row["implementation"] == "duckdb__deduplicate"] == [
        {"implementation": "duckdb__deduplicate", **row} for row in expected
    ]
