"""Records with a code their source does not document land, flagged, and keep their money.

An order with an unknown status is still an order: it is in the order facts and, since only a
cancelled order is left out of net revenue, in revenue. A campaign with an unknown status,
platform or objective keeps its spend on its own campaign. A web event of an unknown type is
kept, but sessions and funnels count only the types they know. The shop and the ads API get
their unknown codes written into a small simulated company here; the web export's come from
the simulator (`unknown_web_event_type`).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.models.conftest import ModelsWarehouse, build_altered_company, defect_items, scalar
from warehouse.dbt import DbtResult
from warehouse.settings import Paths

DAYS = 6
SCALE = 0.005
UNKNOWN_ORDER_STATUS = "on_hold"
UNKNOWN_CAMPAIGN_CODES = {"status": "archived", "platform": "snapchat", "objective": "reach"}
# the accepted_values tests that warn about the codes written here, one per coded column
WARNINGS = (
    "accepted_values_stg_shop__orders_order_status",
    "accepted_values_stg_ads__campaigns_campaign_status",
    "accepted_values_stg_ads__campaigns_platform",
    "accepted_values_stg_ads__campaigns_objective",
)


@dataclass
class CodedCompany:
    """A small company whose shop and ads API hold codes nobody documented, loaded and built."""

    paths: Paths
    build: DbtResult
    order_id: int
    campaign_id: int

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.paths.duckdb_path), read_only=True)

    def source(self, database: str, sql: str) -> list[tuple]:
        """Rows of a query on a source system's own state (`shop` or `api`)."""
        connection = sqlite3.connect(self.paths.sources_dir / f"{database}.sqlite")
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()


def write_unknown_codes(sources_dir: Path) -> tuple[int, int]:
    """Give the latest order with lines an unknown status and the campaign with the most
    reported spend unknown codes; return their ids. Also break an order's time and another
    campaign's name, which the loader quarantines: that must not hold back the marts."""
    shop = sqlite3.connect(sources_dir / "shop.sqlite")
    try:
        (order_id,) = shop.execute(
            "select max(order_id) from orders where status != 'cancelled'"
            " and order_id in (select order_id from order_lines)"
        ).fetchone()
        shop.execute(
            "update orders set status = ? where order_id = ?", [UNKNOWN_ORDER_STATUS, order_id]
        )
        shop.execute(
            "update orders set ordered_at = 'last Tuesday' where order_id = (select min(order_id)"
            " from orders where order_id in (select order_id from order_lines))"
        )
        shop.commit()
    finally:
        shop.close()
    api = sqlite3.connect(sources_dir / "api.sqlite")
    try:
        (campaign_id,) = api.execute(
            "select campaign_id from ad_daily_reports group by campaign_id"
            " order by sum(spend) desc, campaign_id limit 1"
        ).fetchone()
        api.execute(
            "update campaigns set campaign_name = '' where campaign_id = (select min(campaign_id)"
            " from ad_daily_reports where campaign_id != ?)",
            [campaign_id],
        )
        for column, code in UNKNOWN_CAMPAIGN_CODES.items():
            api.execute(
                f"update campaigns set {column} = ? where campaign_id = ?", [code, campaign_id]
            )
        api.commit()
    finally:
        api.close()
    return order_id, campaign_id


@pytest.fixture(scope="module")
def coded_company(tmp_path_factory: pytest.TempPathFactory) -> CodedCompany:
    paths, build, (order_id, campaign_id) = build_altered_company(
        tmp_path_factory.mktemp("coded_company"),
        DAYS,
        SCALE,
        write_unknown_codes,
        "+fct_revenue_daily +fct_ad_spend_daily",
    )
    return CodedCompany(paths, build, order_id, campaign_id)


def test_unknown_codes_build_with_warnings_not_errors(coded_company: CodedCompany) -> None:
    assert coded_company.build.ok, coded_company.build.failures
    run_results = json.loads((coded_company.paths.dbt_target_dir / "run_results.json").read_text())
    # a generated test's name goes on with its values: match on the beginning
    statuses = {
        prefix: [
            result["status"]
            for result in run_results["results"]
            if result["unique_id"].split(".")[2].startswith(prefix)
        ]
        for prefix in WARNINGS
    }
    assert statuses == {prefix: ["warn"] for prefix in WARNINGS}


def test_an_order_with_an_unknown_status_is_in_the_order_facts_and_revenue(
    coded_company: CodedCompany,
) -> None:
    # revenue leaves out cancelled orders only: every other order of the shop is in it, but
    # the one placed at no time the loader could read
    expected_orders = {
        order_id
        for (order_id,) in coded_company.source(
            "shop",
            "select distinct order_id from orders join order_lines using (order_id)"
            " where status != 'cancelled' and ordered_at != 'last Tuesday'",
        )
    }
    with coded_company.connect() as warehouse:
        assert warehouse.execute(
            "select order_status, is_unknown_order_status from ods.ods_orders where order_id = ?",
            [coded_company.order_id],
        ).fetchall() == [(UNKNOWN_ORDER_STATUS, True)]
        lines = warehouse.execute(
            "select distinct order_status, is_unknown_order_status, is_cancelled"
            " from finance.fct_order_lines where order_id = ?",
            [coded_company.order_id],
        ).fetchall()
        assert lines == [(UNKNOWN_ORDER_STATUS, True, False)]
        landed_orders = {
            order_id
            for (order_id,) in warehouse.execute(
                "select distinct order_id from finance.fct_order_lines where not is_cancelled"
            ).fetchall()
        }
        assert landed_orders == expected_orders
        assert (
            scalar(warehouse, "select count(*) from ods.ods_orders where is_unknown_order_status")
            == 1
        )
        net_revenue = scalar(
            warehouse, "select sum(net_revenue_eur) from finance.fct_revenue_daily"
        )
        order_lines_net = scalar(
            warehouse,
            "select sum(net_amount_eur) from finance.fct_order_lines where not is_cancelled",
        )
        assert net_revenue == order_lines_net


def test_a_campaign_with_unknown_codes_keeps_its_spend(coded_company: CodedCompany) -> None:
    # every reported spend lands: the campaign with unknown codes keeps it, a campaign the
    # loader quarantined (no name) has it on the unknown campaign
    expected_spend = Counter()
    for currency, spend in coded_company.source(
        "api", "select currency, sum(spend) from ad_daily_reports group by currency"
    ):
        expected_spend[currency.upper()] = Decimal(str(spend)).quantize(Decimal("0.01"))
    (campaign_spend,) = coded_company.source(
        "api",
        f"select sum(spend) from ad_daily_reports where campaign_id = {coded_company.campaign_id}",
    )[0]
    with coded_company.connect() as warehouse:
        assert warehouse.execute(
            "select campaign_status, platform, objective,"
            " is_unknown_campaign_status, is_unknown_platform, is_unknown_objective"
            " from marketing.dim_campaign where campaign_id = ?",
            [coded_company.campaign_id],
        ).fetchall() == [(*UNKNOWN_CAMPAIGN_CODES.values(), True, True, True)]
        spend = warehouse.execute(
            "select sum(spend), count(*) filter (where campaign_sk = ?)"
            " from marketing.fct_ad_spend_daily where campaign_id = ?",
            ["-1", coded_company.campaign_id],
        ).fetchone()
        assert spend == (Decimal(str(campaign_spend)).quantize(Decimal("0.01")), 0)
        landed_spend = dict(
            warehouse.execute(
                "select currency_code, sum(spend) from marketing.fct_ad_spend_daily"
                " group by currency_code"
            ).fetchall()
        )
    assert landed_spend == dict(expected_spend)


def test_web_events_of_an_unknown_type_are_kept_but_not_in_sessions(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    # an event that also lost its type or visitor, or sits on a malformed line, is quarantined
    lost = {
        item.get("event_id") or item.get("id")
        for kind in ("null_web_field", "malformed_web_line")
        for item in defect_items(models_warehouse, kind)
    }
    expected = {
        item["event_id"]: item["event_type"]
        for item in defect_items(models_warehouse, "unknown_web_event_type")
        if item["event_id"] not in lost
    }
    assert expected
    landed = dict(
        warehouse.execute(
            "select event_id, event_type from ods.ods_web_events where is_unknown_event_type"
        ).fetchall()
    )
    assert landed == expected
    # sessions are made of the events whose type is known, and count each known type
    assert scalar(warehouse, "select sum(event_count) from marketing.fct_sessions") == scalar(
        warehouse, "select count(*) from ods.ods_web_events where not is_unknown_event_type"
    )
