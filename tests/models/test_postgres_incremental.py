"""On PostgreSQL too, incremental runs give exactly what a full refresh gives.

A small company is simulated in two steps into its own throw-away database: the first days
are loaded and built, then the next days loaded and built incrementally; each incremental
model's table is kept, the incremental models are rebuilt with `--full-refresh`, and each kept
table must equal its rebuild row for row.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from simulator import simulate
from tests.conftest import WRITE_COLUMNS, load_as_loader, require_service
from tests.models.conftest import INCREMENTAL_MODELS
from warehouse.dbt import DbtResult, run_dbt
from warehouse.postgres import (
    PII_KEY_ENV,
    ROLE_PREFIX_ENV,
    PostgresWarehouse,
    admin_url,
    drop_roles,
    prepare_postgres_warehouse,
    role_names,
    throwaway_database,
)
from warehouse.settings import resolve_paths

pytestmark = pytest.mark.postgres

SCALE = 0.005
FIRST_DAYS = 3
LATER_DAYS = 9
# Daily snapshots with a 3-day window give fct_customer_lapse_features rows within these 12
# days, and its incremental run new snapshot dates and held ones whose label becomes known.
LAPSE_VARS = [
    "--vars",
    json.dumps({"customer_feature_snapshot_period": "day", "customer_lapse_window_days": 3}),
]


@dataclass
class PostgresIncremental:
    """The runs, and each incremental model's kept table compared with its rebuild."""

    first_run: DbtResult
    incremental_run: DbtResult
    full_refresh: DbtResult
    # model -> (rows only in the incremental table, rows only in its rebuild, rows in the rebuild)
    differences: dict[str, tuple[int, int, int]]


def compare_with_rebuild(
    warehouse: PostgresWarehouse, models: tuple[str, ...]
) -> dict[str, tuple[int, int, int]]:
    """Rows only in each kept incremental table, only in its rebuild, and in the rebuild."""
    differences = {}
    with psycopg2.connect(warehouse.admin_url, dbname=warehouse.database) as connection:
        cursor = connection.cursor()
        for model in models:
            cursor.execute(
                "select table_schema from information_schema.tables"
                " where table_name = %s and table_schema != 'incremental_copy'",
                [model],
            )
            (schema,) = cursor.fetchone()
            cursor.execute(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = %s and column_name not in %s"
                " order by ordinal_position",
                [schema, model, WRITE_COLUMNS],
            )
            columns = ", ".join(f'"{name}"' for (name,) in cursor.fetchall())
            kept = f"select {columns} from incremental_copy.{model}"
            rebuilt = f'select {columns} from "{schema}"."{model}"'
            counts = []
            for query in (f"{kept} except all {rebuilt}", f"{rebuilt} except all {kept}", rebuilt):
                cursor.execute(f"select count(*) from ({query}) as compared")
                counts.append(cursor.fetchone()[0])
            only_kept, only_rebuilt, rebuilt_rows = counts
            differences[model] = (only_kept, only_rebuilt, rebuilt_rows)
    return differences


def keep_tables(warehouse: PostgresWarehouse, models: tuple[str, ...]) -> None:
    """Copy each incremental model's table before the full refresh replaces it."""
    with psycopg2.connect(warehouse.admin_url, dbname=warehouse.database) as connection:
        cursor = connection.cursor()
        cursor.execute("create schema incremental_copy")
        for model in models:
            cursor.execute(
                "select table_schema from information_schema.tables where table_name = %s",
                [model],
            )
            (schema,) = cursor.fetchone()
            cursor.execute(
                f'create table incremental_copy."{model}" as select * from "{schema}"."{model}"'
            )


@pytest.fixture(scope="module")
def postgres_incremental(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresIncremental]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    data_dir: Path = tmp_path_factory.mktemp("postgres_incremental")
    paths = resolve_paths(data_dir, data_dir / "unused.duckdb")
    prefix = f"lk{uuid.uuid4().hex[:8]}_"
    url = admin_url()
    try:
        with (
            throwaway_database(url, "larkspur_incremental") as database,
            pytest.MonkeyPatch.context() as monkeypatch,
        ):
            monkeypatch.setenv(ROLE_PREFIX_ENV, prefix)
            monkeypatch.setenv(PII_KEY_ENV, secrets.token_urlsafe(24))
            for kind in ("loader", "transformer", "reporter"):
                monkeypatch.setenv(
                    f"WAREHOUSE_PG_{kind.upper()}_PASSWORD", secrets.token_urlsafe(18)
                )
            warehouse = prepare_postgres_warehouse(database, url)
            runs = []
            for days in (FIRST_DAYS, LATER_DAYS):
                simulate(paths.data_dir, days=days, scale=SCALE)
                load_report, load_log = load_as_loader(paths, warehouse)
                assert load_report.ok, load_log[-2000:]
                with monkeypatch.context() as build_environment:
                    for variable, value in warehouse.transformer_environment().items():
                        build_environment.setenv(variable, value)
                    # seeds, snapshots and models: the data tests are the DuckDB suite's
                    run = run_dbt(
                        ["build", "--exclude-resource-type", "test", "unit_test", *LAPSE_VARS],
                        paths,
                        target="postgres",
                        quiet=True,
                    )
                if not run.ok:
                    pytest.fail(f"dbt run on PostgreSQL failed: {run.failures}")
                runs.append(run)
            keep_tables(warehouse, INCREMENTAL_MODELS)
            with monkeypatch.context() as build_environment:
                for variable, value in warehouse.transformer_environment().items():
                    build_environment.setenv(variable, value)
                full_refresh = run_dbt(
                    [
                        "run",
                        "--full-refresh",
                        "--select",
                        "config.materialized:incremental",
                        *LAPSE_VARS,
                    ],
                    paths,
                    target="postgres",
                    quiet=True,
                )
            yield PostgresIncremental(
                first_run=runs[0],
                incremental_run=runs[1],
                full_refresh=full_refresh,
                differences=compare_with_rebuild(warehouse, INCREMENTAL_MODELS),
            )
    finally:
        drop_roles(url, role_names(prefix))


def test_runs_succeed(postgres_incremental: PostgresIncremental) -> None:
    for run in (
        postgres_incremental.first_run,
        postgres_incremental.incremental_run,
        postgres_incremental.full_refresh,
    ):
        assert run.ok, run.failures


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_run_equals_full_refresh_on_postgres(
    postgres_incremental: PostgresIncremental, model: str
) -> None:
    only_incremental, only_rebuilt, rebuilt_rows = postgres_incremental.differences[model]
    assert rebuilt_rows > 0
    assert (only_incremental, only_rebuilt) == (0, 0)
