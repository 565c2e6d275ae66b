"""Every defect the simulator injected is handled by the time data reach the marts.

The expectations come from the simulator's ground truth and its SQLite shop database, not
from the loader's report.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import duckdb
import pytest

from tests.models.conftest import ModelsWarehouse, defect_items, scalar


def ids_in(warehouse: duckdb.DuckDBPyConnection, table: str, column: str, ids: list) -> int:
    """How many of the ids occur in the table's column (duplicates counted)."""
    return scalar(warehouse, f"select count(*) from {table} where {column} in ?", [ids])


def malformed_row_ids(models_warehouse: ModelsWarehouse) -> set[str]:
    """Ids of CSV rows the simulator cut short: they are quarantined, not loaded."""
    return {
        item["id"]
        for kind in ("malformed_shipments_row", "malformed_tracking_row")
        for item in defect_items(models_warehouse, kind)
    }


def test_duplicates_land_once(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    for kind, table, column in (
        ("duplicate_web_event", "ods.ods_web_events", "event_id"),
        ("duplicate_tracking_event", "logistics.fct_shipment_events", "tracking_event_id"),
        ("resent_charge", "finance.fct_payments", "payment_id"),
    ):
        key = "charge_id" if kind == "resent_charge" else column
        ids = sorted({item[key] for item in defect_items(models_warehouse, kind)})
        assert ids, kind
        assert ids_in(warehouse, table, column, ids) == len(ids), kind


def test_late_events_arrive(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    web = models_warehouse.sources_dir / "web"
    # a late event can also have lost a required field, and then belongs to the quarantine
    rejected = {item["event_id"] for item in defect_items(models_warehouse, "null_web_field")}
    late_events = [
        item["event_id"]
        for item in defect_items(models_warehouse, "late_web_event")
        if (web / item["file"]).exists() and item["event_id"] not in rejected
    ]
    assert late_events
    assert ids_in(warehouse, "ods.ods_web_events", "event_id", late_events) == len(late_events)
    tracking = models_warehouse.sources_dir / "logistics" / "tracking"
    lost = malformed_row_ids(models_warehouse)
    late_tracking = [
        item["tracking_event_id"]
        for item in defect_items(models_warehouse, "late_tracking_event")
        if (tracking / item["file"]).exists() and item["tracking_event_id"] not in lost
    ]
    assert late_tracking
    assert ids_in(
        warehouse, "logistics.fct_shipment_events", "tracking_event_id", late_tracking
    ) == len(late_tracking)


def test_rejected_records_stay_out_of_the_marts_and_are_reported(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    # Only records the warehouse cannot represent are rejected. Refunds with an unknown reason,
    # shipments without an order number, tracking events with an unknown code and web events of
    # an unknown type are real and land flagged instead (tests/models/test_money_lands.py,
    # test_codes_land.py).
    for kind, key, table, column, source_system in (
        ("null_charge_amount", "charge_id", "finance.fct_payments", "payment_id", "payments"),
        ("null_web_field", "event_id", "ods.ods_web_events", "event_id", "web"),
    ):
        ids = sorted({item[key] for item in defect_items(models_warehouse, kind)})
        assert ids, kind
        assert ids_in(warehouse, table, column, ids) == 0, kind
        quarantined = scalar(
            warehouse,
            "select count(*) from ods.ods_quarantined_records where source_system = ?",
            [source_system],
        )
        assert quarantined >= len(ids), kind


def test_malformed_lines_are_quarantined(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    malformed = sum(
        len(defect_items(models_warehouse, kind))
        for kind in ("malformed_web_line", "malformed_shipments_row", "malformed_tracking_row")
    )
    assert malformed > 0
    quarantined = scalar(
        warehouse,
        "select count(*) from ods.ods_quarantined_records"
        " where reason_kind like 'malformed%' or reason_kind like 'invalid_json%'",
    )
    assert quarantined == malformed


def test_mixed_offsets_are_converted_to_utc(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    order_ids = sorted(
        item["key"]
        for item in defect_items(models_warehouse, "mixed_offset")
        if item["table"] == "orders"
    )
    assert order_ids
    shop = sqlite3.connect(models_warehouse.sources_dir / "shop.sqlite")
    try:
        source_times = dict(
            shop.execute(
                f"select order_id, ordered_at from orders where order_id in "
                f"({', '.join('?' * len(order_ids))})",
                order_ids,
            ).fetchall()
        )
    finally:
        shop.close()
    assert any(not text.endswith(("Z", "+00:00")) for text in source_times.values())
    warehouse_times = dict(
        warehouse.execute(
            "select order_id, ordered_at from ods.ods_orders where order_id in ?", [order_ids]
        ).fetchall()
    )
    for order_id, text in source_times.items():
        expected = datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)
        assert warehouse_times[order_id] == expected, order_id


def test_erased_customers_leave_no_trace_but_their_orders_stay(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    erased = sorted(
        {item["customer_id"] for item in defect_items(models_warehouse, "hard_deleted_customer")}
    )
    assert erased
    assert ids_in(warehouse, "ods.ods_customers", "customer_id", erased) == 0
    shop = sqlite3.connect(models_warehouse.sources_dir / "shop.sqlite")
    try:
        orders_of_erased = shop.execute(
            f"select count(*) from orders where customer_id in ({', '.join('?' * len(erased))})",
            erased,
        ).fetchone()[0]
    finally:
        shop.close()
    assert ids_in(warehouse, "ods.ods_orders", "customer_id", erased) == orders_of_erased
    # versions of erased customers that a snapshot saw are closed, none is current
    assert (
        scalar(
            warehouse,
            "select count(*) from core.dim_customer where customer_id in ? and is_current",
            [erased],
        )
        == 0
    )


def test_no_personal_data_beyond_staging(warehouse: duckdb.DuckDBPyConnection) -> None:
    personal = warehouse.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('ods', 'snapshots', 'core', 'finance', 'marketing', 'logistics')"
        " and column_name in ('email', 'customer_email', 'first_name', 'last_name', 'phone',"
        " 'line1', 'line2', 'postcode', 'destination_postcode', 'user_agent', 'raw_payload')"
    ).fetchall()
    assert personal == []


def test_restated_ad_reports_keep_the_final_numbers(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    api = sqlite3.connect(models_warehouse.sources_dir / "api.sqlite")
    try:
        final_spend = api.execute("select round(sum(spend), 2) from ad_daily_reports").fetchone()[0]
        report_rows = api.execute("select count(*) from ad_daily_reports").fetchone()[0]
    finally:
        api.close()
    assert defect_items(models_warehouse, "ad_report_restatement")
    assert scalar(warehouse, "select count(*) from marketing.fct_ad_spend_daily") == report_rows
    mart_spend = scalar(warehouse, "select sum(spend) from marketing.fct_ad_spend_daily")
    assert float(mart_spend) == pytest.approx(final_spend, abs=0.01)


def test_redelivered_files_fill_in_missing_rows(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    missing = sorted(
        {
            row_id
            for item in defect_items(models_warehouse, "redelivered_file")
            if item["file"].startswith("tracking_")
            for row_id in item["missing_ids"]
        }
        - malformed_row_ids(models_warehouse)
    )
    assert missing
    assert ids_in(warehouse, "logistics.fct_shipment_events", "tracking_event_id", missing) == len(
        missing
    )


def test_schema_change_columns_are_filled(warehouse: duckdb.DuckDBPyConnection) -> None:
    # risk_score exists from the processor's schema change (day 45, 2025-02-15) on
    assert (
        scalar(
            warehouse,
            "select count(*) from finance.fct_payments where payment_date >= '2025-02-16'"
            " and risk_score is null",
        )
        == 0
    )
    assert (
        scalar(
            warehouse,
            "select count(*) from finance.fct_payments where payment_date < '2025-02-15'"
            " and risk_score is not null",
        )
        == 0
    )
    # freight_cost files still fill shipping_cost
    assert (
        scalar(
            warehouse,
            "select count(*) from logistics.fct_shipments where shipped_date >= '2025-02-16'"
            " and shipping_cost is null",
        )
        == 0
    )


def test_order_totals_match_the_shop(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    shop = sqlite3.connect(models_warehouse.sources_dir / "shop.sqlite")
    try:
        line_count, net_amount = shop.execute(
            "select count(*), round(sum(quantity * unit_price - discount_amount), 2)"
            " from order_lines"
        ).fetchone()
    finally:
        shop.close()
    assert scalar(warehouse, "select count(*) from finance.fct_order_lines") == line_count
    mart_net = scalar(warehouse, "select sum(net_amount) from finance.fct_order_lines")
    assert float(mart_net) == pytest.approx(net_amount, abs=0.01)
