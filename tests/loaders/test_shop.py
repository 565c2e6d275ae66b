"""The shop source: contract breaches go to quarantine, and MariaDB loads like SQLite."""

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from simulator.storage import SHOP_SCHEMA
from tests.conftest import require_service
from tests.loaders.conftest import Warehouse, copy_sources
from tests.loaders.test_full_load import SHOP_TABLES

SHOP_KEYS = {
    "product_categories": "category_id",
    "products": "product_id",
    "customers": "customer_id",
    "addresses": "address_id",
    "discounts": "discount_id",
    "orders": "order_id",
    "order_lines": "order_line_id",
    "order_status_history": "status_history_id",
}


def loosen_not_null(database: sqlite3.Connection, table: str) -> None:
    """Rebuild `table` without NOT NULL constraints so that a test can null a required value."""
    (ddl,) = database.execute(
        "select sql from sqlite_master where type = 'table' and name = ?", [table]
    ).fetchone()
    loose = ddl.replace(table, f"{table}_loose", 1).replace(" not null", "")
    database.executescript(
        f"{loose}; insert into {table}_loose select * from {table}; drop table {table}; "
        f"alter table {table}_loose rename to {table};"
    )


@pytest.fixture(scope="module")
def corrupted_shop(
    simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Warehouse, dict[int, str]]:
    """The shop loaded from a copy in which three orders and one status change break the contract.

    Returns the loaded warehouse and the expected reason per broken order id.
    """
    data_dir = copy_sources(simulated_dir, tmp_path_factory.mktemp("corrupted_shop"))
    database = sqlite3.connect(data_dir / "sources" / "shop.sqlite")
    try:
        loosen_not_null(database, "orders")
        first, second, third = (
            order_id
            for (order_id,) in database.execute(
                "select order_id from orders order by order_id desc limit 3"
            )
        )
        database.execute("update orders set customer_id = null where order_id = ?", [first])
        database.execute(
            "update orders set ordered_at = 'last Tuesday' where order_id = ?", [second]
        )
        database.execute("update orders set status = 'teleported' where order_id = ?", [third])
        database.execute(
            "update order_status_history set changed_at = '2025-13-45T25:00:00Z' "
            "where status_history_id = (select max(status_history_id) from order_status_history)"
        )
        database.commit()
    finally:
        database.close()
    warehouse = Warehouse(data_dir)
    warehouse.load(["shop"])
    reasons = {
        first: "null_required_field:customer_id",
        second: "unparsable_timestamp:ordered_at",
        third: "unknown_enum_value:status",
    }
    return warehouse, reasons


def test_broken_shop_rows_are_quarantined_and_the_rest_loads(
    corrupted_shop: tuple[Warehouse, dict[int, str]], warehouse: Warehouse
) -> None:
    corrupted, reasons = corrupted_shop
    result = corrupted.report.result("shop")
    assert result.ok, result.error
    rows = corrupted.query(
        "select reason, source_location, raw_payload from raw_shop.quarantined_records "
        "where source_table = 'orders' order by source_location"
    )
    assert sorted((reason, location) for reason, location, _ in rows) == sorted(
        (reason, f"orders:order_id={order_id}") for order_id, reason in reasons.items()
    )
    for _, location, payload in rows:
        assert json.loads(payload)["order_id"] == int(location.rsplit("=", 1)[1])
    assert corrupted.count("raw_shop.orders") == warehouse.count("raw_shop.orders") - 3
    placeholders = ", ".join("?" * len(reasons))
    assert (
        corrupted.scalar(
            f"select count(*) from raw_shop.orders where order_id in ({placeholders})",
            list(reasons),
        )
        == 0
    )
    assert result.quarantined == {
        ("orders", "null_required_field:customer_id"): 1,
        ("orders", "unparsable_timestamp:ordered_at"): 1,
        ("orders", "unknown_enum_value:status"): 1,
        ("order_status_history", "unparsable_timestamp:changed_at"): 1,
    }


def test_other_shop_tables_load_in_full_despite_the_broken_rows(
    corrupted_shop: tuple[Warehouse, dict[int, str]], warehouse: Warehouse
) -> None:
    corrupted, _ = corrupted_shop
    for table in ("customers", "order_lines", "products"):
        assert corrupted.count(f"raw_shop.{table}") == warehouse.count(f"raw_shop.{table}")
    assert (
        corrupted.count("raw_shop.order_status_history")
        == warehouse.count("raw_shop.order_status_history") - 1
    )
    (location,) = corrupted.query(
        "select source_location from raw_shop.quarantined_records "
        "where source_table = 'order_status_history'"
    )[0]
    assert location.startswith("order_status_history:status_history_id=")


MARIADB_HOST = "127.0.0.1"
MARIADB_PORT = 3306


def mariadb_schema() -> str:
    """The shop's SQLite schema in MariaDB's dialect: money keeps its cents, keys get lengths."""
    return (
        SHOP_SCHEMA.replace("text not null unique", "varchar(64) not null unique")
        .replace("numeric", "decimal(18, 4)")
        .replace("create index if not exists addresses_customer", "create index addresses_customer")
    )


@pytest.fixture(scope="module")
def mariadb_shop(simulated_dir: Path) -> Iterator[str]:
    """A throw-away MariaDB database holding a copy of the simulated shop; yields its URL."""
    require_service("MariaDB", MARIADB_HOST, MARIADB_PORT)
    database = f"larkspur_test_{uuid.uuid4().hex[:8]}"
    server = pymysql.connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="")
    try:
        with server.cursor() as cursor:
            cursor.execute(f"create database {database}")
            cursor.execute(f"use {database}")
            for statement in mariadb_schema().split(";"):
                if statement.strip():
                    cursor.execute(statement)
            source = sqlite3.connect(simulated_dir / "sources" / "shop.sqlite")
            try:
                for table in SHOP_TABLES:
                    rows = source.execute(f"select * from {table}").fetchall()
                    if rows:
                        values = ", ".join(["%s"] * len(rows[0]))
                        cursor.executemany(f"insert into {table} values ({values})", rows)
            finally:
                source.close()
        server.commit()
        yield f"mysql+pymysql://root@{MARIADB_HOST}:{MARIADB_PORT}/{database}"
    finally:
        with server.cursor() as cursor:
            cursor.execute(f"drop database if exists {database}")
        server.close()


@pytest.mark.mariadb
def test_the_shop_loads_the_same_from_a_mariadb_database(
    mariadb_shop: str, warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__SHOP__CREDENTIALS", mariadb_shop)
    shop_warehouse = Warehouse(tmp_path)
    for _ in range(2):  # the second run exercises the incremental filter in MariaDB
        result = shop_warehouse.load(["shop"]).result("shop")
        assert result.ok, result.error
    for table, key in SHOP_KEYS.items():
        columns = "* exclude (_dlt_load_id)"
        query = f"select {columns} from raw_shop.{table} order by {key}"
        from_mariadb = shop_warehouse.query(query)
        assert from_mariadb == warehouse.query(query), table
        assert len(from_mariadb) == warehouse.ground_truth["tables"][f"shop.{table}"]["rows"]
