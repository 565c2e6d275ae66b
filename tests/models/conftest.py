"""One warehouse for the dbt tests: simulated in two steps, loaded and built after each.

The first `dbt build` runs on the first two days, before any refund exists, so dlt has not
created `raw_payments.refunds` yet: it shows that a missing raw table does not break the build.
The second runs the incremental models on top of the first over the remaining days, which is
what the incremental-equals-full-refresh test compares with a full refresh. The defect tests
read the final state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pytest

from loaders import load
from loaders.registry import api_source_names
from simulator import simulate
from simulator.api_server import ApiServer
from tests.conftest import WRITE_COLUMNS
from warehouse.cli import build_warehouse
from warehouse.dbt import DbtResult, run_dbt
from warehouse.settings import Paths, resolve_paths

# In all, large enough that every defect kind and the schema change (day 45) occur, small
# enough that the loads and builds stay around a minute and a half on 2 cores. The first refund
# is created on day 3. The last day is a daily run: one day loaded and built on top of 49.
FIRST_DAYS = 2
LATER_DAYS = 47
DAILY_DAYS = 1
SCALE = 0.005
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
# Every incremental model, found by its config, so that a new one is compared too.
INCREMENTAL_MODELS = tuple(
    sorted(
        path.stem
        for path in MODELS_DIR.rglob("*.sql")
        if "materialized='incremental'" in path.read_text()
    )
)
# Differs between runs by design: which dbt invocation last wrote the row.
INVOCATION_COLUMN = "_dbt_invocation_id"
API_SOURCES = api_source_names()
T = TypeVar("T")
# The models built from raw_payments.refunds, which the first build finds missing.
REFUND_MODELS = ("staging.stg_payments__refunds", "ods.ods_refunds", "finance.fct_refunds")


@dataclass
class FirstBuildState:
    """What the first build, on days without refunds, left in the warehouse."""

    raw_refunds_existed: bool
    row_counts: dict[str, int]
    refund_column_types: dict[str, str]


@dataclass
class ModelsWarehouse:
    """The test warehouse, the tables the incremental run produced, and the dbt results."""

    paths: Paths
    incremental_build: DbtResult
    first_build: DbtResult
    full_refresh: DbtResult
    first_build_state: FirstBuildState | None
    incremental_copies: dict[str, str] = field(default_factory=dict)
    daily_build: DbtResult | None = None
    daily_run_results: dict[str, Any] = field(default_factory=dict)

    @property
    def sources_dir(self) -> Path:
        return self.paths.sources_dir

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.paths.duckdb_path), read_only=True)


def simulate_and_load(paths: Paths, days: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate more days and load every source."""
    simulate(paths.data_dir, days=days, scale=SCALE)
    load_sources(paths, monkeypatch)


def load_sources(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load every source from the local API server and the files (destination from the env)."""
    with ApiServer(paths.data_dir, port=0) as server:
        for name in API_SOURCES:
            monkeypatch.setenv(f"SOURCES__{name.upper()}__BASE_URL", f"{server.base_url}/{name}/v1")
            monkeypatch.setenv(f"SOURCES__{name.upper()}__TOKEN", "demo-token")
        report = load(data_dir=paths.data_dir, duckdb_path=paths.duckdb_path)
    assert report.ok, [result.error for result in report.results if not result.ok]


def build_altered_company(
    data_dir: Path, days: int, scale: float, alter: Callable[[Path], T], models: str
) -> tuple[Paths, DbtResult, T]:
    """Simulate a small company, let `alter` write defects into its sources (it gets the
    sources folder and returns what the tests need to find them), load it and build `models`
    with the tests of what is built; return the paths, the build and what `alter` returned."""
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    simulate(paths.data_dir, days=days, scale=scale)
    altered = alter(paths.sources_dir)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_DUCKDB_PATH", str(paths.duckdb_path))
        load_sources(paths, monkeypatch)
        build = run_dbt(
            [
                "build",
                "--select",
                models,
                # only the tests of what is built: a relationship to an unbuilt model would fail
                "--indirect-selection",
                "cautious",
                "--exclude-resource-type",
                "unit_test",
            ],
            paths,
            target="dev",
            quiet=True,
        )
    return paths, build, altered


def raw_refunds_exist(paths: Paths) -> bool:
    """Whether dlt has created the refunds raw table."""
    with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
        return bool(
            scalar(
                connection,
                "select count(*) from information_schema.tables"
                " where table_schema = 'raw_payments' and table_name = 'refunds'",
            )
        )


def first_build_state(paths: Paths, raw_refunds_existed: bool) -> FirstBuildState:
    """Row counts of the refund models and the staging model's column types, as built."""
    with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
        row_counts = {
            model: scalar(connection, f"select count(*) from {model}") for model in REFUND_MODELS
        }
        column_types = dict(
            connection.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'staging' and table_name = 'stg_payments__refunds'"
            ).fetchall()
        )
    return FirstBuildState(raw_refunds_existed, row_counts, column_types)


def model_relation(connection: duckdb.DuckDBPyConnection, model: str) -> str:
    """The schema-qualified table a model built (models are unique by name across schemas)."""
    schema = scalar(
        connection,
        "select table_schema from information_schema.tables"
        " where table_name = ? and table_schema != 'incremental_copy'",
        [model],
    )
    return f"{schema}.{model}"


def reads_relation(compiled_code: str, name: str) -> bool:
    """Whether a model's compiled SQL reads the relation `name`, outside its comments (a
    `-- depends_on:` comment names a relation the model may not read)."""
    return any(
        f'"{name}"' in line
        for line in compiled_code.splitlines()
        if not line.lstrip().startswith("--")
    )


def compared_rows(connection: duckdb.DuckDBPyConnection, model: str, relation: str) -> str:
    """A query of `relation`'s rows in the columns of the model's built table, in their order,
    without the columns that say which run wrote a row (WRITE_COLUMNS)."""
    schema, table = model_relation(connection, model).split(".")
    columns = [
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        if name not in WRITE_COLUMNS
    ]
    return f"select {', '.join(columns)} from {relation}"


def differences_from_rebuild(
    connection: duckdb.DuckDBPyConnection, model: str, kept: str
) -> tuple[int, int, int]:
    """Rows only in `kept` (a model's table kept from an incremental run), rows only in the
    model's rebuilt table, and rows in the rebuild, compared without WRITE_COLUMNS."""
    incremental = compared_rows(connection, model, kept)
    full = compared_rows(connection, model, model_relation(connection, model))
    return (
        scalar(connection, f"select count(*) from ({incremental} except all {full})"),
        scalar(connection, f"select count(*) from ({full} except all {incremental})"),
        scalar(connection, f"select count(*) from ({full})"),
    )


def copy_tables(paths: Paths, models: tuple[str, ...]) -> dict[str, str]:
    """Keep the incremental runs' tables before a full refresh replaces them."""
    copies = {}
    with duckdb.connect(str(paths.duckdb_path)) as connection:
        connection.execute("create schema if not exists incremental_copy")
        for model in models:
            connection.execute(
                f"create or replace table incremental_copy.{model} as"
                f" select * from {model_relation(connection, model)}"
            )
            copies[model] = f"incremental_copy.{model}"
    return copies


@pytest.fixture(scope="session")
def models_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelsWarehouse]:
    """Simulate, load and build; simulate more, load and build incrementally; full-refresh."""
    data_dir = tmp_path_factory.mktemp("models_warehouse")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_DUCKDB_PATH", str(paths.duckdb_path))
        simulate_and_load(paths, FIRST_DAYS, monkeypatch)
        raw_refunds_existed = raw_refunds_exist(paths)
        # The data tests run once, in the second build: here only what they would test is built.
        first_build = run_dbt(
            ["build", "--exclude-resource-type", "test", "unit_test"],
            paths,
            target="dev",
            quiet=True,
        )
        first_state = first_build_state(paths, raw_refunds_existed) if first_build.ok else None
        simulate_and_load(paths, LATER_DAYS, monkeypatch)
        incremental_build = run_dbt(["build"], paths, target="dev", quiet=True)
        simulate_and_load(paths, DAILY_DAYS, monkeypatch)
        # what `warehouse build` runs each day
        daily_build = build_warehouse(paths, target="dev", quiet=True)
        daily_run_results = json.loads((paths.dbt_target_dir / "run_results.json").read_text())
        copies = copy_tables(paths, INCREMENTAL_MODELS)
        full_refresh = run_dbt(
            ["run", "--full-refresh", "--select", "config.materialized:incremental"],
            paths,
            target="dev",
            quiet=True,
        )
    yield ModelsWarehouse(
        paths=paths,
        first_build=first_build,
        incremental_build=incremental_build,
        full_refresh=full_refresh,
        first_build_state=first_state,
        incremental_copies=copies,
        daily_build=daily_build,
        daily_run_results=daily_run_results,
    )


@pytest.fixture
def warehouse(models_warehouse: ModelsWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the built warehouse, closed after each test."""
    connection = models_warehouse.connect()
    yield connection
    connection.close()


def defect_items(models_warehouse: ModelsWarehouse, kind: str) -> list[dict[str, Any]]:
    """The ground truth's items of one defect kind."""
    ground_truth = json.loads((models_warehouse.sources_dir / "ground_truth.json").read_text())
    return ground_truth["defects"][kind]["items"]


def scalar(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any] | None = None
) -> Any:
    """The single value a query returns."""
    return connection.execute(sql, parameters or []).fetchone()[0]
