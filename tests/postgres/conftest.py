"""Connections to the session's PostgreSQL build and to the DuckDB build of the same sources."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from psycopg2.extensions import connection as PgConnection

from tests.conftest import BuiltWarehouse, PostgresBuild


@pytest.fixture(scope="module")
def postgres(postgres_build: PostgresBuild) -> Iterator[PgConnection]:
    """An administrator's connection to the PostgreSQL warehouse, in autocommit mode."""
    connection = postgres_build.connect()
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def duckdb_warehouse(built_warehouse: BuiltWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the DuckDB warehouse built from the same simulated sources."""
    if built_warehouse.returncode != 0:
        pytest.fail(f"the DuckDB demo build failed:\n{built_warehouse.output[-2000:]}")
    connection = duckdb.connect(str(built_warehouse.paths.duckdb_path), read_only=True)
    yield connection
    connection.close()
