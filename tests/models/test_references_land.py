"""Shop records missing a reference that is not their own key land, flagged, with their money.

An order whose customer is missing is still a sale, and an order line whose product is missing
is still revenue: both land, the fact row points at the dimension's unknown member, and net
revenue per currency equals what the shop sold (every order but the cancelled ones). Only a row
without its own key, or one the warehouse cannot place (a line of no order), stays quarantined.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.loaders.test_shop import loosen_not_null
from tests.models.conftest import build_altered_company, scalar
from warehouse.dbt import DbtResult
from warehouse.settings import Paths

DAYS = 6
SCALE = 0.005
CENT = Decimal("0.01")


@dataclass
class UnreferencedCompany:
    """A small company with an order that lost its customer and a line that lost its product."""

    paths: Paths
    build: DbtResult
    customerless_order_id: int
    productless_line_id: int

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.paths.duckdb_path), read_only=True)

    def shop(self, sql: str) -> list[tuple]:
        """Rows of a query on the shop database itself."""
        connection = sqlite3.connect(self.paths.sources_dir / "shop.sqlite")
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()


def drop_references(sources_dir: Path) -> tuple[int, int]:
    """Null the customer of the latest non-cancelled order with lines and the product of a
    line of the earliest such order; return the order id and the order line id."""
    shop = sqlite3.connect(sources_dir / "shop.sqlite")
    try:
        loosen_not_null(shop, "orders")
        loosen_not_null(shop, "order_lines")
        with_lines = (
            "from orders where status != 'cancelled'"
            " and order_id in (select order_id from order_lines)"
        )
        (order_id,) = shop.execute(f"select max(order_id) {with_lines}").fetchone()
        (line_id,) = shop.execute(
            f"select min(order_line_id) from order_lines where order_id = (select min(order_id)"
            f" {with_lines})"
        ).fetchone()
        shop.execute("update orders set customer_id = null where order_id = ?", [order_id])
        shop.execute("update order_lines set product_id = null where order_line_id = ?", [line_id])
        shop.commit()
    finally:
        shop.close()
    return order_id, line_id


@pytest.fixture(scope="module")
def unreferenced_company(tmp_path_factory: pytest.TempPathFactory) -> UnreferencedCompany:
    paths, build, (order_id, line_id) = build_altered_company(
        tmp_path_factory.mktemp("unreferenced_company"),
        DAYS,
        SCALE,
        drop_references,
        "+fct_revenue_daily",
    )
    return UnreferencedCompany(paths, build, order_id, line_id)


def test_rows_missing_a_reference_land_raw_and_are_not_quarantined(
    unreferenced_company: UnreferencedCompany,
) -> None:
    company = unreferenced_company
    with company.connect() as warehouse:
        assert warehouse.execute(
            "select customer_id from raw_shop.orders where order_id = ?",
            [company.customerless_order_id],
        ).fetchall() == [(None,)]
        assert warehouse.execute(
            "select product_id from raw_shop.order_lines where order_line_id = ?",
            [company.productless_line_id],
        ).fetchall() == [(None,)]
        assert (
            scalar(
                warehouse,
                "select count(*) from raw_shop.quarantined_records"
                " where source_table in ('orders', 'order_lines')",
            )
            == 0
        )


def test_an_order_without_its_customer_is_flagged_and_on_the_unknown_customer(
    unreferenced_company: UnreferencedCompany,
) -> None:
    company = unreferenced_company
    assert company.build.ok, company.build.failures
    with company.connect() as warehouse:
        assert warehouse.execute(
            "select customer_id, has_customer from ods.ods_orders where order_id = ?",
            [company.customerless_order_id],
        ).fetchall() == [(None, False)]
        assert scalar(warehouse, "select count(*) from ods.ods_orders where not has_customer") == 1
        lines = warehouse.execute(
            "select distinct customer_sk, has_customer, is_cancelled"
            " from finance.fct_order_lines where order_id = ?",
            [company.customerless_order_id],
        ).fetchall()
        assert lines == [("-1", False, False)]


def test_an_order_line_without_its_product_is_flagged_and_on_the_unknown_product(
    unreferenced_company: UnreferencedCompany,
) -> None:
    company = unreferenced_company
    with company.connect() as warehouse:
        assert warehouse.execute(
            "select product_id, has_product from ods.ods_order_lines where order_line_id = ?",
            [company.productless_line_id],
        ).fetchall() == [(None, False)]
        assert warehouse.execute(
            "select product_sk, has_product from finance.fct_order_lines where order_line_id = ?",
            [company.productless_line_id],
        ).fetchall() == [("-1", False)]
        assert (
            scalar(warehouse, "select count(*) from finance.fct_order_lines where not has_product")
            == 1
        )


def test_net_revenue_per_currency_equals_the_shops_sales(
    unreferenced_company: UnreferencedCompany,
) -> None:
    company = unreferenced_company
    expected = {
        currency: Decimal(str(net)).quantize(CENT)
        for currency, net in company.shop(
            "select currency_code, sum(round(quantity * unit_price - order_lines.discount_amount,"
            " 2)) from order_lines join orders using (order_id) where status != 'cancelled'"
            " group by currency_code"
        )
    }
    with company.connect() as warehouse:
        landed = dict(
            warehouse.execute(
                "select currency_code, sum(net_amount) from finance.fct_order_lines"
                " where not is_cancelled group by currency_code"
            ).fetchall()
        )
        # every line of revenue reaches the daily revenue mart, the unknown members' too
        assert scalar(
            warehouse, "select sum(net_revenue_eur) from finance.fct_revenue_daily"
        ) == scalar(
            warehouse,
            "select sum(net_amount_eur) from finance.fct_order_lines where not is_cancelled",
        )
    assert landed == expected
