"""The tables the shop deletes from (customers, addresses): an erased customer leaves the
warehouse, a restored one comes back, and a read that would empty or halve such a table, or a
missing table, stops the shop before anything of it loads."""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from loaders import load
from loaders.shop import settings as shop_settings
from tests.loaders.conftest import Warehouse, copy_sources

CUSTOMERS_EMPTIED = (
    "shop.customers would shrink from {rows} to 0 rows (-100 %): check the source; to accept, "
    "run `warehouse load shop --allow-shrink` or set sources.shop.max_shrink_share "
    "(now 0.5; 1 accepts any shrink)"
)


@pytest.fixture(scope="module")
def loaded_shop(simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The shop loaded once; tests change a copy of this data folder."""
    warehouse = Warehouse(copy_sources(simulated_dir, tmp_path_factory.mktemp("shop_guards")))
    assert warehouse.load(["shop"]).ok
    return warehouse


@pytest.fixture
def shop_copy(loaded_shop: Warehouse, tmp_path: Path) -> Warehouse:
    """A copy of the loaded data folder: sources, dlt state and warehouse."""
    return Warehouse(Path(shutil.copytree(loaded_shop.data_dir, tmp_path / "data")))


def change_shop(warehouse: Warehouse, sql: str) -> None:
    database = sqlite3.connect(warehouse.data_dir / "sources" / "shop.sqlite")
    try:
        database.executescript(sql)
        database.commit()
    finally:
        database.close()


def shop_rows(warehouse: Warehouse, table: str) -> int:
    database = sqlite3.connect(warehouse.data_dir / "sources" / "shop.sqlite")
    try:
        return database.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        database.close()


def test_an_emptied_customers_table_stops_the_shop_before_anything_loads(
    shop_copy: Warehouse,
) -> None:
    customers = shop_copy.count("raw_shop.customers")
    loads = shop_copy.count("raw_shop._dlt_loads")
    orders = shop_copy.count("raw_shop.orders")
    change_shop(shop_copy, "delete from customers;")

    result = shop_copy.load(["shop"]).result("shop")

    assert not result.ok
    assert result.error == CUSTOMERS_EMPTIED.format(rows=customers)
    assert result.rows == {}
    assert shop_copy.count("raw_shop.customers") == customers
    assert shop_copy.count("raw_shop._dlt_loads") == loads
    assert shop_copy.count("raw_shop.orders") == orders
    assert shop_copy.query(
        "select status, error from raw_meta.load_runs where source = 'shop'"
        " order by finished_at desc limit 1"
    ) == [("failed", CUSTOMERS_EMPTIED.format(rows=customers))]


def test_allow_shrink_accepts_the_emptied_table(shop_copy: Warehouse) -> None:
    change_shop(shop_copy, "delete from customers;")

    report = load(["shop"], data_dir=shop_copy.data_dir, allow_shrink=True)

    assert report.ok, report.result("shop").error
    assert shop_copy.count("raw_shop.customers") == 0


def test_max_shrink_share_one_accepts_the_emptied_table(
    shop_copy: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_shop(shop_copy, "delete from customers;")
    monkeypatch.setenv("SOURCES__SHOP__MAX_SHRINK_SHARE", "1")

    report = shop_copy.load(["shop"])

    assert report.ok, report.result("shop").error
    assert shop_copy.count("raw_shop.customers") == 0


def test_an_erased_customer_leaves_with_their_addresses(shop_copy: Warehouse) -> None:
    database = sqlite3.connect(shop_copy.data_dir / "sources" / "shop.sqlite")
    try:
        (erased,) = database.execute(
            "select min(customer_id) from addresses where customer_id is not null"
        ).fetchone()
    finally:
        database.close()
    change_shop(
        shop_copy,
        f"delete from addresses where customer_id = {erased};"
        f"delete from customers where customer_id = {erased};",
    )

    report = shop_copy.load(["shop"])

    assert report.ok, report.result("shop").error
    for table in ("customers", "addresses"):
        assert (
            shop_copy.scalar(
                f"select count(*) from raw_shop.{table} where customer_id = ?", [erased]
            )
            == 0
        )
        assert shop_copy.count(f"raw_shop.{table}") == shop_rows(shop_copy, table)


@pytest.mark.parametrize("by_key_limit", [10_000, 1], ids=["by key", "whole table"])
def test_rows_back_in_the_shop_come_back_to_the_warehouse(
    shop_copy: Warehouse, monkeypatch: pytest.MonkeyPatch, by_key_limit: int
) -> None:
    # an empty read accepted by mistake, then the rows restored with their old updated_at,
    # which the incremental window no longer reaches
    monkeypatch.setattr(shop_settings, "RESTORE_BY_KEY_LIMIT", by_key_limit)
    customers = shop_rows(shop_copy, "customers")
    change_shop(shop_copy, "create table away as select * from customers; delete from customers;")
    assert load(["shop"], data_dir=shop_copy.data_dir, allow_shrink=True).ok
    assert shop_copy.count("raw_shop.customers") == 0
    change_shop(shop_copy, "insert into customers select * from away; drop table away;")

    report = shop_copy.load(["shop"])

    assert report.ok, report.result("shop").error
    assert shop_copy.count("raw_shop.customers") == customers
    assert shop_copy.scalar("select count(distinct customer_id) from raw_shop.customers") == (
        customers
    )


def test_a_drop_within_the_share_loads(shop_copy: Warehouse) -> None:
    # customers without addresses, so that only customers shrinks
    change_shop(
        shop_copy,
        "delete from customers where customer_id % 10 < 4"
        " and customer_id not in (select customer_id from addresses);",
    )
    remaining = shop_rows(shop_copy, "customers")

    report = shop_copy.load(["shop"])

    assert report.ok, report.result("shop").error
    assert shop_copy.count("raw_shop.customers") == remaining


def test_a_drop_over_the_share_names_each_shrinking_table(shop_copy: Warehouse) -> None:
    customers = shop_copy.count("raw_shop.customers")
    addresses = shop_copy.count("raw_shop.addresses")
    change_shop(
        shop_copy,
        "delete from addresses where customer_id % 10 < 7; delete from customers"
        " where customer_id % 10 < 7;",
    )
    kept_customers = shop_rows(shop_copy, "customers")
    kept_addresses = shop_rows(shop_copy, "addresses")
    customer_drop = round(100 * (customers - kept_customers) / customers)
    address_drop = round(100 * (addresses - kept_addresses) / addresses)

    result = shop_copy.load(["shop"]).result("shop")

    assert result.error == (
        f"shop.customers would shrink from {customers} to {kept_customers} rows "
        f"(-{customer_drop} %) and shop.addresses would shrink from {addresses} to "
        f"{kept_addresses} rows "
        f"(-{address_drop} %): check the source; to accept, run `warehouse load shop "
        "--allow-shrink` or set sources.shop.max_shrink_share (now 0.5; 1 accepts any shrink)"
    )
    assert shop_copy.count("raw_shop.customers") == customers


def test_a_max_shrink_share_out_of_range_is_refused(
    shop_copy: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__SHOP__MAX_SHRINK_SHARE", "50")

    result = shop_copy.load(["shop"]).result("shop")

    assert result.error == (
        "sources.shop.max_shrink_share is 50.0: set a share between 0 and 1 "
        "(0.5 stops a load that would drop more than half of a table; 1 accepts any shrink)"
    )


def test_a_max_shrink_share_that_is_not_a_number_is_named(
    shop_copy: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__SHOP__MAX_SHRINK_SHARE", "lots")

    result = shop_copy.load(["shop"]).result("shop")

    assert result.error == (
        "sources.shop.max_shrink_share is 'lots', not a float: fix it in .dlt/config.toml or the "
        "environment variable SOURCES__SHOP__MAX_SHRINK_SHARE"
    )


def test_the_cli_flag_accepts_the_emptied_table(shop_copy: Warehouse) -> None:
    change_shop(shop_copy, "delete from customers;")
    command = [sys.executable, "-m", "warehouse", "load", "shop", "--data-dir"]
    refused = subprocess.run(
        [*command, str(shop_copy.data_dir)], capture_output=True, text=True, check=False
    )
    accepted = subprocess.run(
        [*command, str(shop_copy.data_dir), "--allow-shrink"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert refused.returncode == 1
    assert "shop.customers would shrink from" in " ".join(refused.stderr.split())
    assert accepted.returncode == 0, accepted.stderr
    assert shop_copy.count("raw_shop.customers") == 0


def test_a_missing_shop_table_is_named_with_the_database(shop_copy: Warehouse) -> None:
    change_shop(shop_copy, "drop table orders;")
    database = shop_copy.data_dir / "sources" / "shop.sqlite"

    result = shop_copy.load(["shop"]).result("shop")

    assert result.error == (
        f"the shop database sqlite:///{database} has no table orders: restore it, or set "
        "sources.shop.credentials to the shop's database"
    )
