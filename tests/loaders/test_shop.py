"""The shop source: contract breaches go to quarantine, rows that only lost a reference land,
and MariaDB loads like SQLite."""

import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest

from simulator.ground_truth import SHOP_TABLE_KEYS
from simulator.storage import SHOP_SCHEMA
from tests.conftest import require_service
from tests.loaders.conftest import Warehouse, copy_sources


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


UNKNOWN_CODES = {
    # table: (code column, a code the shop does not document)
    "orders": ("status", "teleported"),
    "order_status_history": ("status", "teleported"),
    "products": ("status", "recalled"),
    "customers": ("segment", "wholesale"),
    "addresses": ("address_type", "pickup_point"),
    "discounts": ("discount_type", "buy_one_get_one"),
}


# Rows that lost a reference which is not their own key: still real, so they land as sent
# (issue #12: an order without its customer is still a sale, a line without its product is
# still revenue). table: (key column, the reference column nulled)
MISSING_REFERENCES = {
    "orders": ("order_id", "customer_id"),
    "order_lines": ("order_line_id", "product_id"),
    "addresses": ("address_id", "customer_id"),
    "products": ("product_id", "category_id"),
}


@dataclass
class CorruptedShop:
    """The shop loaded from a copy holding rows that break the contract, rows with codes the
    shop does not document and rows missing a reference that is not their key."""

    warehouse: Warehouse
    reasons: dict[int, str]
    """The expected quarantine reason per broken order id."""
    unknown_codes: dict[str, int]
    """The key of the row given an undocumented code, per table (UNKNOWN_CODES)."""
    unknown_currency_order: int
    missing_references: dict[str, int]
    """The key of the row whose reference was nulled, per table (MISSING_REFERENCES)."""
    orphan_line: int
    """An order line whose order_id was nulled: a line of no order has no currency or date."""


@pytest.fixture(scope="module")
def corrupted_shop(simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> CorruptedShop:
    data_dir = copy_sources(simulated_dir, tmp_path_factory.mktemp("corrupted_shop"))
    database = sqlite3.connect(data_dir / "sources" / "shop.sqlite")
    try:
        for table in ("orders", "order_lines", "addresses", "products", "order_status_history"):
            loosen_not_null(database, table)
        first, second, third, fourth = (
            order_id
            for (order_id,) in database.execute(
                "select order_id from orders order by order_id desc limit 4"
            )
        )
        missing_references = {"orders": first}
        database.execute("update orders set customer_id = null where order_id = ?", [first])
        database.execute(
            "update orders set ordered_at = 'last Tuesday' where order_id = ?", [second]
        )
        database.execute(
            "update order_status_history set changed_at = '2025-13-45T25:00:00Z' "
            "where status_history_id = (select max(status_history_id) from order_status_history)"
        )
        # a status change of no order says nothing: the one before the unparsable one loses it
        database.execute(
            "update order_status_history set order_id = null where status_history_id = ("
            "select max(status_history_id) - 1 from order_status_history)"
        )
        unknown_codes = {"orders": third}
        for table, (column, code) in UNKNOWN_CODES.items():
            key = SHOP_TABLE_KEYS[table]
            if table != "orders":
                (unknown_codes[table],) = database.execute(
                    f"select min({key}) from {table}"
                ).fetchone()
            database.execute(
                f"update {table} set {column} = ? where {key} = ?", [code, unknown_codes[table]]
            )
        database.execute("update orders set currency_code = 'CHF' where order_id = ?", [fourth])
        for table, (key, reference) in MISSING_REFERENCES.items():
            if table != "orders":
                (missing_references[table],) = database.execute(
                    f"select max({key}) from {table}"
                ).fetchone()
                database.execute(
                    f"update {table} set {reference} = null where {key} = ?",
                    [missing_references[table]],
                )
        (orphan_line,) = database.execute("select min(order_line_id) from order_lines").fetchone()
        database.execute(
            "update order_lines set order_id = null where order_line_id = ?", [orphan_line]
        )
        database.commit()
    finally:
        database.close()
    warehouse = Warehouse(data_dir)
    warehouse.load(["shop"])
    # the order without its customer lands (MISSING_REFERENCES): only the unparsable order is
    # quarantined among the orders
    reasons = {second: "unparsable_timestamp:ordered_at"}
    return CorruptedShop(warehouse, reasons, unknown_codes, fourth, missing_references, orphan_line)


def test_broken_shop_rows_are_quarantined_and_the_rest_loads(
    corrupted_shop: CorruptedShop, warehouse: Warehouse
) -> None:
    corrupted, reasons = corrupted_shop.warehouse, corrupted_shop.reasons
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
    assert corrupted.count("raw_shop.orders") == warehouse.count("raw_shop.orders") - 1
    placeholders = ", ".join("?" * len(reasons))
    assert (
        corrupted.scalar(
            f"select count(*) from raw_shop.orders where order_id in ({placeholders})",
            list(reasons),
        )
        == 0
    )
    # a row without its own key or without the order that gives it a meaning stays out
    assert result.quarantined == {
        ("orders", "unparsable_timestamp:ordered_at"): 1,
        ("order_lines", "null_required_field:order_id"): 1,
        ("order_status_history", "unparsable_timestamp:changed_at"): 1,
        ("order_status_history", "null_required_field:order_id"): 1,
    }
    assert corrupted.query(
        "select source_location from raw_shop.quarantined_records"
        " where source_table = 'order_lines'"
    ) == [(f"order_lines:order_line_id={corrupted_shop.orphan_line}",)]


def test_rows_with_codes_the_shop_does_not_document_land_as_sent(
    corrupted_shop: CorruptedShop,
) -> None:
    # an order with an unknown status is still an order (money): staging flags the code
    corrupted = corrupted_shop.warehouse
    landed = {
        table: corrupted.query(
            f"select {column} from raw_shop.{table} where {SHOP_TABLE_KEYS[table]} = ?",
            [corrupted_shop.unknown_codes[table]],
        )
        for table, (column, _) in UNKNOWN_CODES.items()
    }
    assert landed == {table: [(code,)] for table, (_, code) in UNKNOWN_CODES.items()}
    assert corrupted.query(
        "select currency_code from raw_shop.orders where order_id = ?",
        [corrupted_shop.unknown_currency_order],
    ) == [("CHF",)]


def test_rows_missing_a_reference_that_is_not_their_key_land_as_sent(
    corrupted_shop: CorruptedShop,
) -> None:
    corrupted = corrupted_shop.warehouse
    landed = {
        table: corrupted.query(
            f"select {key}, {reference} from raw_shop.{table} where {key} = ?",
            [corrupted_shop.missing_references[table]],
        )
        for table, (key, reference) in MISSING_REFERENCES.items()
    }
    assert landed == {
        table: [(corrupted_shop.missing_references[table], None)] for table in MISSING_REFERENCES
    }


def test_other_shop_tables_load_in_full_despite_the_broken_rows(
    corrupted_shop: CorruptedShop, warehouse: Warehouse
) -> None:
    corrupted = corrupted_shop.warehouse
    for table in ("customers", "addresses", "discounts", "products"):
        assert corrupted.count(f"raw_shop.{table}") == warehouse.count(f"raw_shop.{table}")
    assert corrupted.count("raw_shop.order_lines") == warehouse.count("raw_shop.order_lines") - 1
    assert (
        corrupted.count("raw_shop.order_status_history")
        == warehouse.count("raw_shop.order_status_history") - 2
    )
    locations = corrupted.query(
        "select source_location from raw_shop.quarantined_records "
        "where source_table = 'order_status_history'"
    )
    assert len(locations) == 2
    assert all(
        location.startswith("order_status_history:status_history_id=") for (location,) in locations
    )


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
                for table in SHOP_TABLE_KEYS:
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
    for table, key in SHOP_TABLE_KEYS.items():
        columns = "* exclude (_dlt_load_id)"
        query = f"select {columns} from raw_shop.{table} order by {key}"
        from_mariadb = shop_warehouse.query(query)
        assert from_mariadb == warehouse.query(query), table
        assert len(from_mariadb) == warehouse.ground_truth["tables"][f"shop.{table}"]["rows"]
