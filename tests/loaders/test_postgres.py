"""PostgreSQL as the warehouse (Parquet files copied in by ADBC) and as the shop database."""

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import dlt
import psycopg2
import pytest
from psycopg2.extras import execute_values

from loaders import LoadReport, load
from loaders.quarantine import QUARANTINE_TABLE, quarantine_table_resource
from loaders.runner import postgres_destination
from simulator.storage import SHOP_SCHEMA
from tests.conftest import require_service
from tests.loaders.conftest import Warehouse, copy_sources

pytestmark = pytest.mark.postgres

HOST = os.environ.get("WAREHOUSE_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("WAREHOUSE_PG_PORT", "5432"))
USER = os.environ.get("WAREHOUSE_PG_USER", "postgres")
# dlt insists on a password; a server trusting local connections ignores this one
PASSWORD = os.environ.get("DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD") or "unused-by-trust-auth"


def _admin(statement: str) -> None:
    """Run a statement that cannot run in a transaction (create/drop database)."""
    connection = psycopg2.connect(
        host=HOST, port=PORT, user=USER, password=PASSWORD, dbname="postgres"
    )
    try:
        connection.autocommit = True
        connection.cursor().execute(statement)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def postgres_load(
    simulated_dir: Path,
    api_server: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LoadReport, str]]:
    require_service("PostgreSQL", HOST, PORT)
    database = f"larkspur_loaders_test_{uuid.uuid4().hex[:8]}"
    _admin(f"create database {database}")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(
                "DESTINATION__POSTGRES__CREDENTIALS",
                f"postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{database}",
            )
            data_dir = copy_sources(simulated_dir, tmp_path_factory.mktemp("postgres"))
            yield load(data_dir=data_dir, destination="postgres"), database
    finally:
        _admin(f"drop database if exists {database} with (force)")


def test_postgres_holds_the_same_rows_as_duckdb(
    postgres_load: tuple[LoadReport, str], warehouse: Warehouse
) -> None:
    report, database = postgres_load
    assert [(r.name, r.error) for r in report.results if not r.ok] == []
    tables = warehouse.query(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema like 'raw_%' and table_schema not like '%_staging' "
        "and table_schema <> 'raw_meta' and table_name not like '_dlt%' order by 1"
    )
    connection = psycopg2.connect(
        host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=database
    )
    try:
        cursor = connection.cursor()
        for (table,) in tables:
            cursor.execute(f"select count(*) from {table}")
            assert cursor.fetchone()[0] == warehouse.count(table), table
        cursor.execute("select sum(amount) from raw_payments.charges")
        assert cursor.fetchone()[0] == warehouse.scalar(
            "select sum(amount) from raw_payments.charges"
        )
        cursor.execute("select count(*) from raw_meta.load_runs where status = 'ok'")
        assert cursor.fetchone()[0] == 6
    finally:
        connection.close()


def test_the_shop_loads_the_same_from_a_postgresql_database(
    simulated_dir: Path, warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_service("PostgreSQL", HOST, PORT)
    database = f"larkspur_shop_test_{uuid.uuid4().hex[:8]}"
    _admin(f"create database {database}")
    try:
        _copy_shop(simulated_dir / "sources" / "shop.sqlite", database)
        monkeypatch.setenv(
            "SOURCES__SHOP__CREDENTIALS",
            f"postgresql+psycopg2://{USER}:{PASSWORD}@{HOST}:{PORT}/{database}",
        )
        shop_warehouse = Warehouse(tmp_path)
        for _ in range(2):  # the second run exercises the incremental filter in PostgreSQL
            result = shop_warehouse.load(["shop"]).result("shop")
            assert result.ok, result.error
        for table in ("customers", "orders", "order_lines", "order_status_history"):
            assert shop_warehouse.count(f"raw_shop.{table}") == warehouse.count(f"raw_shop.{table}")
        total = "select sum(total_amount), max(updated_at) from raw_shop.orders"
        assert shop_warehouse.query(total) == warehouse.query(total)
    finally:
        _admin(f"drop database if exists {database} with (force)")


def test_an_erased_customer_leaves_postgresql_with_their_addresses(
    simulated_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_service("PostgreSQL", HOST, PORT)
    database = f"larkspur_erasure_test_{uuid.uuid4().hex[:8]}"
    _admin(f"create database {database}")
    try:
        monkeypatch.setenv(
            "DESTINATION__POSTGRES__CREDENTIALS",
            f"postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{database}",
        )
        data_dir = copy_sources(simulated_dir, tmp_path)
        assert load(["shop"], data_dir=data_dir, destination="postgres").ok
        shop = sqlite3.connect(data_dir / "sources" / "shop.sqlite")
        try:
            (erased,) = shop.execute(
                "select min(customer_id) from addresses where customer_id is not null"
            ).fetchone()
            shop.executescript(
                f"delete from addresses where customer_id = {erased};"
                f"delete from customers where customer_id = {erased};"
            )
            kept = {
                table: shop.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("customers", "addresses")
            }
        finally:
            shop.close()

        report = load(["shop"], data_dir=data_dir, destination="postgres")

        assert report.ok, report.result("shop").error
        connection = psycopg2.connect(
            host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=database
        )
        try:
            cursor = connection.cursor()
            for table, rows in kept.items():
                cursor.execute(
                    f"select count(*) from raw_shop.{table} where customer_id = %s", [erased]
                )
                assert cursor.fetchone()[0] == 0, table
                cursor.execute(f"select count(*) from raw_shop.{table}")
                assert cursor.fetchone()[0] == rows, table
        finally:
            connection.close()
    finally:
        _admin(f"drop database if exists {database} with (force)")


def test_a_table_declared_empty_loads_into_postgresql_as_parquet(tmp_path: Path) -> None:
    # dlt writes the quarantine table a source declares before any rejection as a Parquet file
    # without rows, on which dlt's own ADBC job fails (loaders.runner._StreamedParquetCopyJob)
    require_service("PostgreSQL", HOST, PORT)
    database = f"larkspur_empty_test_{uuid.uuid4().hex[:8]}"
    _admin(f"create database {database}")
    try:
        pipeline = dlt.pipeline(
            pipeline_name="empty_parquet",
            pipelines_dir=str(tmp_path),
            destination=postgres_destination(),
            dataset_name="raw_empty",
        )
        credentials = f"postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{database}"
        empty = quarantine_table_resource()
        kept = dlt.resource([{"id": 1}, {"id": 2}], name="kept")

        info = pipeline.run([empty, kept], loader_file_format="parquet", credentials=credentials)

        assert not info.has_failed_jobs
        copied_as_parquet = {
            job.job_file_info.table_name
            for job in info.load_packages[0].jobs["completed_jobs"]
            if job.job_file_info.file_format == "parquet"
        }
        assert {QUARANTINE_TABLE, "kept"} <= copied_as_parquet
        connection = psycopg2.connect(credentials)
        try:
            cursor = connection.cursor()
            cursor.execute(f"select count(*) from raw_empty.{QUARANTINE_TABLE}")
            assert cursor.fetchone()[0] == 0
            cursor.execute("select sum(id) from raw_empty.kept")
            assert cursor.fetchone()[0] == 3
        finally:
            connection.close()
    finally:
        _admin(f"drop database if exists {database} with (force)")


def _copy_shop(sqlite_path: Path, database: str) -> None:
    """The simulated shop tables, same schema and text timestamps, in a PostgreSQL database."""
    source = sqlite3.connect(sqlite_path)
    target = psycopg2.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=database)
    try:
        cursor = target.cursor()
        cursor.execute(SHOP_SCHEMA.replace("integer primary key", "bigint primary key"))
        tables = source.execute("select name from sqlite_master where type = 'table'").fetchall()
        for (table,) in tables:
            rows = source.execute(f"select * from {table}").fetchall()
            if rows:
                execute_values(cursor, f"insert into {table} values %s", rows, page_size=5000)
        target.commit()
    finally:
        source.close()
        target.close()
