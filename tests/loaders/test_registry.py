"""A source registered with one line in `loaders.registry` loads on DuckDB and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import duckdb
import psycopg2
import pytest

from loaders import load
from loaders.registry import SOURCES, SourceContext, register, source_names
from loaders.runner import _resolve_settings
from tests.conftest import require_service
from warehouse.postgres import (
    ROLE_PREFIX_ENV,
    PostgresWarehouse,
    admin_url,
    drop_roles,
    raw_schemas,
    role_names,
    setup_roles,
    throwaway_database,
)
from warehouse.settings import PROJECT_DIR

TOY_ROWS = 3


@dlt.source(name="toy")
def toy(rows: int = TOY_ROWS) -> Any:
    """A source of `rows` numbered items, standing in for a newly added source system."""

    @dlt.resource(name="items", write_disposition="append")
    def items() -> Iterator[list[dict[str, int]]]:
        yield [{"item_id": number} for number in range(rows)]

    return items


def toy_from_context(context: SourceContext) -> Any:
    return toy()


@pytest.fixture
def toy_source() -> Iterator[str]:
    """The toy source registered as a new source is, removed from the registry afterwards."""
    register("toy", toy_from_context)
    try:
        yield "toy"
    finally:
        del SOURCES["toy"]


def test_registered_source_loads_into_duckdb(toy_source: str, tmp_path: Path) -> None:
    duckdb_path = tmp_path / "warehouse.duckdb"
    assert source_names()[-1] == "toy"

    report = load([toy_source], data_dir=tmp_path, destination="duckdb", duckdb_path=duckdb_path)

    assert [(result.name, result.error) for result in report.results] == [("toy", None)]
    assert report.result("toy").rows == {"items": TOY_ROWS}
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        assert connection.execute("select count(*) from raw_toy.items").fetchone() == (TOY_ROWS,)
        assert connection.execute("select source, status from raw_meta.load_runs").fetchall() == [
            ("toy", "ok")
        ]


@pytest.mark.postgres
def test_registered_source_loads_into_postgres_as_the_loader(
    toy_source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    prefix = f"lk{uuid.uuid4().hex[:8]}_"
    monkeypatch.setenv(ROLE_PREFIX_ENV, prefix)
    roles = role_names()
    url = admin_url()
    assert {"raw_toy", "raw_toy_staging"} <= set(raw_schemas())
    try:
        with throwaway_database(url, "larkspur_registry") as database:
            # the loader may create no schema: raw_toy must come from the registry's grants
            setup_roles(url, database)
            warehouse = PostgresWarehouse(admin_url=url, database=database, roles=roles)
            for variable, value in warehouse.loader_environment().items():
                monkeypatch.setenv(variable, value)

            report = load([toy_source], data_dir=tmp_path, destination="postgres")

            assert [(result.name, result.error) for result in report.results] == [("toy", None)]
            assert report.result("toy").rows == {"items": TOY_ROWS}
            connection = psycopg2.connect(url, dbname=database)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "select tableowner from pg_tables "
                        "where schemaname = 'raw_toy' and tablename = 'items'"
                    )
                    assert cursor.fetchall() == [(roles.loader,)]
                    cursor.execute("select count(*) from raw_toy.items")
                    assert cursor.fetchone() == (TOY_ROWS,)
            finally:
                connection.close()
    finally:
        drop_roles(url, roles)


def test_loaders_default_to_the_projects_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`warehouse` and `loaders.load` agree on the data folder, wherever they are started."""
    for variable in ("WAREHOUSE_DATA_DIR", "WAREHOUSE_DUCKDB_PATH", "WAREHOUSE_DESTINATION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)

    settings = _resolve_settings(None, None, None)

    assert settings.data_dir == PROJECT_DIR / "data"
    assert settings.duckdb_path == PROJECT_DIR / "data" / "warehouse.duckdb"
    assert os.getcwd() == str(tmp_path)
