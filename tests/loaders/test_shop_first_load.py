"""A shop table's first load appends (no merge through dlt's staging copy); later loads merge."""

import sqlite3
from pathlib import Path

import pytest

from tests.loaders.conftest import Warehouse, copy_sources


def staging_tables(warehouse: Warehouse) -> list[str]:
    return [
        name
        for (name,) in warehouse.query(
            "select table_name from information_schema.tables "
            "where table_schema = 'raw_shop_staging' order by 1"
        )
    ]


def test_a_first_shop_load_appends_then_updates_merge_on_the_key(
    simulated_dir: Path, tmp_path: Path
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    shop = sqlite3.connect(data_dir / "sources" / "shop.sqlite")
    source_orders = shop.execute("select count(*) from orders").fetchone()[0]
    warehouse = Warehouse(data_dir)
    result = warehouse.load(["shop"]).result("shop")
    assert result.ok, result.error
    # no merge ran: dlt made no staging copy of any incremental table
    assert "orders" not in staging_tables(warehouse)
    assert warehouse.query("select count(*), count(distinct order_id) from raw_shop.orders") == [
        (source_orders, source_orders)
    ]

    (order_id,) = shop.execute("select min(order_id) from orders").fetchone()
    with shop:
        shop.execute(
            "update orders set status = 'cancelled', updated_at = '2099-01-01T00:00:00Z' "
            "where order_id = ?",
            [order_id],
        )
    shop.close()
    result = warehouse.load(["shop"]).result("shop")
    assert result.ok, result.error
    assert "orders" in staging_tables(warehouse)
    assert warehouse.query("select status from raw_shop.orders where order_id = ?", [order_id]) == [
        ("cancelled",)
    ]
    assert warehouse.scalar("select count(*) from raw_shop.orders") == source_orders


@pytest.mark.parametrize("table", ["orders", "order_lines", "customers"])
def test_the_first_load_lands_one_row_per_source_row(warehouse: Warehouse, table: str) -> None:
    shop = sqlite3.connect(warehouse.data_dir / "sources" / "shop.sqlite")
    try:
        (source_rows,) = shop.execute(f"select count(*) from {table}").fetchone()
    finally:
        shop.close()
    quarantined = warehouse.scalar(
        "select count(*) from raw_shop.quarantined_records where source_table = ?", [table]
    )
    assert warehouse.count(f"raw_shop.{table}") + quarantined == source_rows
