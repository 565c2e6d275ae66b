"""A warehouse the row-by-row API loader built (before issue #13's Arrow pages) keeps loading
after the upgrade: no failed load, no lost row, no changed column type.

The old loader handed dlt each API page as records, with column hints that named a data type
only. dlt stored those columns without `nullable` and a decimal without its precision, while an
Arrow page declares both (`pre_arrow_schema_columns.json` holds the columns of dlt's stored
schemas as commit 94f61ce left them after loading the simulation). Under the `freeze` data
type contract that difference alone failed the first load after the upgrade.

The old warehouse is built here by the loader's row path (every page as records, as the old
loader sent them); its stored schemas then get the column types the old loader left.
"""

import json
from pathlib import Path
from typing import Any

import dlt
import pytest

from loaders import load
from loaders.registry import api_source_names
from loaders.runner import pipelines_dir
from simulator import simulate
from tests.loaders.conftest import Warehouse, api_environment, copy_sources, start_server
from tests.loaders.expected import EXPECTED_CLEAN
from tests.loaders.test_api_raw_shape import raw_api_columns

PRE_ARROW_COLUMNS: dict[str, dict[str, dict[str, Any]]] = json.loads(
    Path(__file__).with_name("pre_arrow_schema_columns.json").read_text()
)
TYPE_PROPERTIES = ("data_type", "nullable", "precision", "scale", "timezone")
"""dlt's column properties under the `data_type` contract (`TColumnType`)."""


def store_pre_arrow_columns(data_dir: Path) -> None:
    """Give the API pipelines' stored schemas the column types the pre-Arrow loader left."""
    for source in api_source_names():
        pipeline = dlt.attach(
            pipeline_name=f"larkspur_{source}",
            pipelines_dir=str(pipelines_dir(data_dir, "duckdb")),
        )
        schema = pipeline.default_schema
        for table, columns in PRE_ARROW_COLUMNS[schema.name].items():
            for name, old_type in columns.items():
                column = schema.tables[table]["columns"].get(name)
                if column is None:
                    continue  # a column of a later simulated day
                for prop in TYPE_PROPERTIES:
                    column.pop(prop, None)  # type: ignore[misc]
                column.update(old_type)
        pipeline.schemas.save_schema(schema)


def stored_column(data_dir: Path, source: str, table: str, column: str) -> dict[str, Any]:
    pipeline = dlt.attach(
        pipeline_name=f"larkspur_{source}", pipelines_dir=str(pipelines_dir(data_dir, "duckdb"))
    )
    stored = pipeline.default_schema.tables[table]["columns"][column]
    return {prop: stored[prop] for prop in TYPE_PROPERTIES if prop in stored}  # type: ignore[literal-required]


def test_a_warehouse_of_the_row_by_row_loader_loads_the_next_day(
    simulated_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    warehouse = Warehouse(data_dir)
    sources = api_source_names()
    server = start_server(data_dir)
    try:
        for key, value in api_environment(server.base_url).items():
            monkeypatch.setenv(key, value)
        with monkeypatch.context() as old_loader:
            old_loader.setattr("loaders.rest._pages_as_arrow", lambda *_, **__: False)
            first = load(sources, data_dir=data_dir)
        assert [(r.name, r.error) for r in first.results if not r.ok] == []
        store_pre_arrow_columns(data_dir)
        assert stored_column(data_dir, "payments", "payouts", "amount") == {"data_type": "bigint"}
        assert stored_column(data_dir, "ads", "daily_reports", "spend") == {"data_type": "decimal"}
        columns_before = raw_api_columns_of(warehouse)
        rows_before = {table: warehouse.count(table) for table in EXPECTED_CLEAN if is_api(table)}

        simulate(data_dir, 1)
        upgrade = load(sources, data_dir=data_dir)
    finally:
        server.stop()

    assert [(r.name, r.error) for r in upgrade.results if not r.ok] == []
    assert raw_api_columns_of(warehouse) == columns_before
    for table, rows in rows_before.items():
        assert warehouse.count(table) == EXPECTED_CLEAN[table](warehouse) >= rows, table
    # the declared columns are stored complete now, as an Arrow page declares them
    assert stored_column(data_dir, "payments", "payouts", "amount") == {
        "data_type": "bigint",
        "nullable": True,
    }
    assert stored_column(data_dir, "ads", "daily_reports", "spend") == {
        "data_type": "decimal",
        "nullable": True,
        "precision": 38,
        "scale": 9,
    }


def is_api(table: str) -> bool:
    return table.split(".")[0].removeprefix("raw_") in api_source_names()


def raw_api_columns_of(warehouse: Warehouse) -> dict[str, dict[str, str]]:
    import duckdb

    with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
        return raw_api_columns(con)
