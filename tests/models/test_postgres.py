"""The same dbt project builds on PostgreSQL from the same sources, with the same numbers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import psycopg2
import pytest

from tests.conftest import require_service
from tests.models.conftest import ModelsWarehouse, load_sources
from warehouse.dbt import DbtResult, run_dbt
from warehouse.settings import resolve_paths

pytestmark = pytest.mark.postgres

HOST = os.environ.get("WAREHOUSE_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("WAREHOUSE_PG_PORT", "5432"))
USER = os.environ.get("WAREHOUSE_PG_USER", "postgres")
# dlt insists on a password; a server trusting local connections ignores this one
PASSWORD = os.environ.get("DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD") or "unused-by-trust-auth"

# one figure per team, compared between the two warehouses
COMPARED_QUERIES = {
    "order lines": "select count(*), sum(net_amount), sum(net_amount_eur)"
    " from finance.fct_order_lines",
    "payments": "select count(*), sum(amount_eur) from finance.fct_payments",
    "revenue summary": "select count(*), sum(net_revenue_eur) from finance.fct_revenue_daily",
    "attribution": "select channel_code, count(*) from marketing.fct_order_attribution"
    " where attribution_model = 'last_touch' group by channel_code order by channel_code",
    "sessions": "select count(*), sum(event_count) from marketing.fct_sessions",
    "shipments": "select count(*), sum(case when is_on_time then 1 else 0 end),"
    " sum(shipping_cost) from logistics.fct_shipments",
    "inventory": "select count(*), sum(case when is_stock_out then 1 else 0 end)"
    " from logistics.fct_inventory_daily",
}


@dataclass
class PostgresBuild:
    """A PostgreSQL database built by dbt from a copy of the test warehouse's sources."""

    database: str
    result: DbtResult


def admin(statement: str) -> None:
    """Run a statement that cannot run in a transaction (create or drop a database)."""
    connection = psycopg2.connect(host=HOST, port=PORT, user=USER, password=PASSWORD)
    try:
        connection.autocommit = True
        connection.cursor().execute(statement)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def postgres_build(
    models_warehouse: ModelsWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresBuild]:
    """Load a copy of the simulated sources into a throw-away database and build it."""
    require_service("PostgreSQL", HOST, PORT)
    database = f"larkspur_models_test_{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("postgres")
    # a fresh data folder: the DuckDB pipelines' incremental state must not leak into this load
    shutil.copytree(models_warehouse.sources_dir, data_dir / "sources")
    paths = resolve_paths(data_dir, data_dir / "unused.duckdb")
    admin(f"create database {database}")
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv(
                "DESTINATION__POSTGRES__CREDENTIALS",
                f"postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{database}",
            )
            monkeypatch.setenv("WAREHOUSE_DESTINATION", "postgres")
            monkeypatch.setenv("WAREHOUSE_PG_DATABASE", database)
            monkeypatch.setenv("DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD", PASSWORD)
            load_sources(paths, monkeypatch)
            result = run_dbt(["build"], paths, target="postgres", quiet=True)
        yield PostgresBuild(database=database, result=result)
    finally:
        admin(f"drop database if exists {database} with (force)")


def test_project_builds_on_postgres(postgres_build: PostgresBuild) -> None:
    assert postgres_build.result.ok, postgres_build.result.failures
    assert postgres_build.result.status_counts["success"] > 60


@pytest.mark.parametrize("figure", sorted(COMPARED_QUERIES))
def test_postgres_marts_equal_duckdb_marts(
    postgres_build: PostgresBuild, warehouse: duckdb.DuckDBPyConnection, figure: str
) -> None:
    query = COMPARED_QUERIES[figure]
    connection = psycopg2.connect(
        host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=postgres_build.database
    )
    try:
        cursor = connection.cursor()
        cursor.execute(query)
        postgres_rows = [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()
    duckdb_rows = [tuple(row) for row in warehouse.execute(query).fetchall()]
    assert postgres_rows == duckdb_rows
