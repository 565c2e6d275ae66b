"""Each destination keeps its own incremental state: a fresh or emptied one gets everything.

The logistics files stand in for every source: their state (which files were read) is what a
second destination must not inherit, and they load without an API server.
"""

import os
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from loaders import load
from tests.conftest import require_service
from tests.loaders.conftest import Warehouse, copy_sources
from warehouse.postgres import (
    MART_SCHEMAS,
    PII_KEY_ENV,
    ROLE_PREFIX_ENV,
    PostgresWarehouse,
    admin_url,
    drop_roles,
    raw_schemas,
    role_names,
    throwaway_database,
)
from warehouse.settings import PROJECT_DIR

LOGISTICS_TABLES = ("shipments", "tracking_events", "inventory_snapshots", "quarantined_records")
HOST = os.environ.get("WAREHOUSE_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("WAREHOUSE_PG_PORT", "5432"))
# the smallest demo whose build passes on both warehouses
# to 1 February: the customer lapse features start with the first month start after orders
DEMO_DAYS = 32
DEMO_SCALE = 0.005
MART_MODELS = sorted(
    (path.parent.name, path.stem)
    for schema in MART_SCHEMAS
    for path in (PROJECT_DIR / "models" / "marts" / schema).glob("*.sql")
)


def postgres_counts(database: str) -> dict[str, int]:
    """Rows of each raw logistics table in `database` (0 for a table that does not exist)."""
    counts = {}
    with psycopg2.connect(admin_url(), dbname=database) as connection:
        cursor = connection.cursor()
        for table in LOGISTICS_TABLES:
            cursor.execute("select to_regclass(%s) is not null", [f"raw_logistics.{table}"])
            if cursor.fetchone()[0]:
                cursor.execute(f"select count(*) from raw_logistics.{table}")
                counts[table] = cursor.fetchone()[0]
            else:
                counts[table] = 0
    return counts


def duckdb_counts(warehouse: Warehouse) -> dict[str, int]:
    return {table: warehouse.count(f"raw_logistics.{table}") for table in LOGISTICS_TABLES}


def create_empty_raw_schemas(database: str) -> None:
    """What `warehouse setup-postgres` leaves in a new database: the raw schemas, empty."""
    with psycopg2.connect(admin_url(), dbname=database) as connection:
        cursor = connection.cursor()
        for schema in raw_schemas():
            cursor.execute(f"drop schema if exists {schema} cascade")
            cursor.execute(f"create schema {schema}")


@pytest.fixture
def postgres_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throw-away database set up like `warehouse setup-postgres` does, loaded as its owner."""
    require_service("PostgreSQL", HOST, PORT)
    with throwaway_database(admin_url(), "larkspur_state_test") as database:
        create_empty_raw_schemas(database)
        warehouse = PostgresWarehouse(admin_url(), database, role_names(""))
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", warehouse.url("postgres", None))
        yield database


@pytest.mark.postgres
def test_postgres_after_duckdb_in_the_same_data_folder_gets_every_row(
    simulated_dir: Path, tmp_path: Path, postgres_database: str
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    duckdb_report = load(["logistics"], data_dir=data_dir)
    assert duckdb_report.ok, duckdb_report.result("logistics").error
    in_duckdb = duckdb_counts(Warehouse(data_dir))
    assert all(in_duckdb[table] > 0 for table in LOGISTICS_TABLES), in_duckdb

    report = load(["logistics"], data_dir=data_dir, destination="postgres")

    result = report.result("logistics")
    assert result.ok, result.error
    assert len(result.files_read) == len(duckdb_report.result("logistics").files_read)
    assert postgres_counts(postgres_database) == in_duckdb
    # and back: DuckDB's state was not touched by the PostgreSQL load, nothing is read twice
    again = load(["logistics"], data_dir=data_dir).result("logistics")
    assert (again.ok, again.files_read, again.rows) == (True, [], {})
    assert duckdb_counts(Warehouse(data_dir)) == in_duckdb


@pytest.mark.postgres
def test_a_recreated_postgres_database_gets_every_row_again(
    simulated_dir: Path, tmp_path: Path, postgres_database: str
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    first = load(["logistics"], data_dir=data_dir, destination="postgres")
    assert first.ok, first.result("logistics").error
    loaded = postgres_counts(postgres_database)
    # the demo database dropped and set up again
    create_empty_raw_schemas(postgres_database)

    again = load(["logistics"], data_dir=data_dir, destination="postgres").result("logistics")

    assert again.ok, again.error
    assert len(again.files_read) == len(first.result("logistics").files_read)
    assert postgres_counts(postgres_database) == loaded


def test_an_emptied_duckdb_warehouse_gets_every_row_again(
    simulated_dir: Path, tmp_path: Path
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    warehouse = Warehouse(data_dir)
    first = warehouse.load(["logistics"]).result("logistics")
    loaded = duckdb_counts(warehouse)
    warehouse.duckdb_path.unlink()

    again = warehouse.load(["logistics"]).result("logistics")

    assert again.ok, again.error
    assert len(again.files_read) == len(first.files_read)
    assert duckdb_counts(warehouse) == loaded


def test_a_data_folder_of_the_shared_layout_keeps_its_duckdb_state(
    simulated_dir: Path, tmp_path: Path
) -> None:
    """Before per-destination state, every pipeline lived in <data>/pipelines/larkspur_<source>."""
    data_dir = copy_sources(simulated_dir, tmp_path)
    warehouse = Warehouse(data_dir)
    warehouse.load(["logistics"])
    pipelines = data_dir / "pipelines"
    for folder in (pipelines / "duckdb").iterdir():
        shutil.move(folder, pipelines / folder.name)
    (pipelines / "duckdb").rmdir()
    loaded = duckdb_counts(warehouse)

    again = warehouse.load(["logistics"]).result("logistics")

    assert (again.ok, again.files_read, again.rows) == (True, [], {})
    assert duckdb_counts(warehouse) == loaded
    assert sorted(path.name for path in pipelines.iterdir()) == ["duckdb"]
    assert (pipelines / "duckdb" / "larkspur_logistics" / "state.json").exists()


def warehouse_command(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        env={**os.environ, **environment, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def mart_row_counts(connection: Any) -> dict[str, int]:
    """Rows of every mart model, from a DB-API connection to either warehouse."""
    counts = {}
    cursor = connection.cursor()
    for schema, model in MART_MODELS:
        cursor.execute(f"select count(*) from {schema}.{model}")
        counts[f"{schema}.{model}"] = cursor.fetchone()[0]
    return counts


@pytest.mark.postgres
@pytest.mark.e2e
def test_demo_on_postgres_after_the_duckdb_demo_builds_the_same_marts(tmp_path: Path) -> None:
    """`make demo`, `warehouse setup-postgres`, `warehouse demo --target postgres`: one folder."""
    require_service("PostgreSQL", HOST, PORT)
    data_dir = tmp_path / "data"
    duckdb_path = data_dir / "warehouse.duckdb"
    environment = {"WAREHOUSE_DATA_DIR": str(data_dir), "WAREHOUSE_DUCKDB_PATH": str(duckdb_path)}
    duckdb_demo = warehouse_command(
        "demo", "--days", str(DEMO_DAYS), "--scale", str(DEMO_SCALE), environment=environment
    )
    assert duckdb_demo.returncode == 0, duckdb_demo.stdout[-3000:] + duckdb_demo.stderr[-3000:]
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        in_duckdb = mart_row_counts(connection)
    assert all(in_duckdb.values()), in_duckdb

    prefix = f"lk{uuid.uuid4().hex[:8]}_"
    url = admin_url()
    try:
        with throwaway_database(url, "larkspur_switch_test") as database:
            environment |= {
                "WAREHOUSE_PG_DATABASE": database,
                ROLE_PREFIX_ENV: prefix,
                PII_KEY_ENV: secrets.token_urlsafe(24),
            }
            setup = warehouse_command("setup-postgres", environment=environment)
            assert setup.returncode == 0, setup.stderr
            postgres_demo = warehouse_command(
                "demo", "--target", "postgres", environment=environment
            )
            output = postgres_demo.stdout + postgres_demo.stderr
            assert postgres_demo.returncode == 0, output[-3000:]
            with psycopg2.connect(url, dbname=database) as connection:
                in_postgres = mart_row_counts(connection)
    finally:
        drop_roles(url, role_names(prefix))
    assert in_postgres == in_duckdb
