"""The API sources' raw tables keep their columns, types and nullability whatever way the
loader hands pages to dlt (row by row or as Arrow tables).

`api_raw_columns.json` is what the row-by-row loader (before issue #13's Arrow pages) created
from the test simulation: every staging model and source YAML was written against it.
"""

import json
from pathlib import Path

import duckdb

from tests.loaders.conftest import Warehouse

EXPECTED_COLUMNS = Path(__file__).with_name("api_raw_columns.json")
API_DATASETS = ("raw_payments", "raw_ads", "raw_fx")


def raw_api_columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """`{"<dataset>.<table>": {column: "<type>[ not null]"}}` of the API sources' raw tables
    (dlt's own `_dlt_*` tables left out)."""
    rows = con.execute(
        """
        select table_schema || '.' || table_name, column_name, data_type, is_nullable
        from information_schema.columns
        where table_schema in ?
            and table_name not like '\\_dlt\\_%' escape '\\'
        order by 1, 2
        """,
        [list(API_DATASETS)],
    ).fetchall()
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type, is_nullable in rows:
        not_null = "" if is_nullable == "YES" else " not null"
        columns.setdefault(table, {})[column] = f"{data_type}{not_null}"
    return columns


def test_api_raw_tables_keep_the_columns_and_types_of_the_row_by_row_loader(
    warehouse: Warehouse,
) -> None:
    with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
        assert raw_api_columns(con) == json.loads(EXPECTED_COLUMNS.read_text())
