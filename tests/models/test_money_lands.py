"""Real money movements and shipments reach the marts, however odd their codes.

Quarantine is for records the warehouse cannot represent (no key, no amount, an unparsable
value); an unknown code or a missing non-key reference lands with the value kept and flagged.
The expectations come from the processor's state behind the API (`api.sqlite`) and the
simulator's ground truth, not from the loader's report.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from simulator.fx import is_business_day
from tests.models.conftest import ModelsWarehouse, defect_items, scalar
from warehouse.dbt import run_dbt


def processor(models_warehouse: ModelsWarehouse, sql: str) -> list[tuple]:
    """Rows of a query on the processor's own state behind the payments API."""
    api = sqlite3.connect(models_warehouse.sources_dir / "api.sqlite")
    try:
        return api.execute(sql).fetchall()
    finally:
        api.close()


@pytest.mark.parametrize(
    ("processor_table", "fact"),
    [
        # every succeeded refund, whatever its reason
        ("refunds", "finance.fct_refunds"),
        # a charge without an amount is the one the warehouse cannot represent: quarantined
        ("charges", "finance.fct_payments"),
    ],
)
def test_succeeded_money_matches_the_processor(
    models_warehouse: ModelsWarehouse,
    warehouse: duckdb.DuckDBPyConnection,
    processor_table: str,
    fact: str,
) -> None:
    expected = {
        currency.upper(): (count, Decimal(total) / 100)
        for currency, count, total in processor(
            models_warehouse,
            f"select currency, count(*), sum(amount) from {processor_table}"
            " where status = 'succeeded' and amount is not null group by currency",
        )
    }
    landed = {
        currency: (count, total)
        for currency, count, total in warehouse.execute(
            f"select currency_code, count(*), sum(amount) from {fact}"
            " where is_succeeded group by currency_code"
        ).fetchall()
    }
    assert landed == expected


def test_refunds_with_an_unknown_reason_keep_it_and_are_flagged(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    items = defect_items(models_warehouse, "unknown_refund_reason")
    assert items
    landed = dict(
        warehouse.execute(
            "select refund_id, refund_reason from finance.fct_refunds where is_unknown_reason"
        ).fetchall()
    )
    assert landed == {item["refund_id"]: item["reason"] for item in items}


def test_shipments_without_an_order_number_land_with_their_tracking(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    truth = json.loads((models_warehouse.sources_dir / "ground_truth.json").read_text())
    # every shipment in a well-formed manifest line, including those without an order number
    assert (
        scalar(warehouse, "select count(*) from logistics.fct_shipments")
        == truth["tables"]["logistics.shipments"]["entities"]
    )
    lost = {item["id"] for item in defect_items(models_warehouse, "malformed_shipments_row")}
    without_order = sorted(
        {
            item["shipment_id"]
            for item in defect_items(models_warehouse, "null_shipment_order_number")
        }
        - lost
    )
    assert without_order
    landed = warehouse.execute(
        "select shipment_id, order_id, order_number, has_order_number"
        " from logistics.fct_shipments where shipment_id in ? order by shipment_id",
        [without_order],
    ).fetchall()
    assert landed == [(shipment_id, None, None, False) for shipment_id in without_order]
    # their tracking events find their shipment; only the shipments of cut-off manifest lines
    # are missing, and their events are the only orphans
    orphaned = {
        shipment_id
        for (shipment_id,) in warehouse.execute(
            "select distinct events.shipment_id from logistics.fct_shipment_events as events"
            " left join logistics.fct_shipments as shipments"
            " on events.shipment_sk = shipments.shipment_sk"
            " where shipments.shipment_sk is null"
        ).fetchall()
    }
    assert orphaned <= lost
    assert (
        scalar(
            warehouse,
            "select count(*) from logistics.fct_shipment_events where shipment_id in ?",
            [without_order],
        )
        > 0
    )


def test_tracking_events_with_an_unknown_code_keep_it_and_are_flagged(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    lost = {item["id"] for item in defect_items(models_warehouse, "malformed_tracking_row")}
    expected = {
        item["tracking_event_id"]: item["event_code"]
        for item in defect_items(models_warehouse, "unknown_tracking_event_code")
        if item["tracking_event_id"] not in lost
    }
    assert expected
    landed = dict(
        warehouse.execute(
            "select tracking_event_id, event_code from logistics.fct_shipment_events"
            " where is_unknown_event_code"
        ).fetchall()
    )
    assert landed == expected


def add_business_days(day: date, count: int) -> date:
    for _ in range(count):
        day += timedelta(days=1)
        while not is_business_day(day):
            day += timedelta(days=1)
    return day


def utc_date(epoch_seconds: int) -> date:
    return datetime.fromtimestamp(epoch_seconds, UTC).date()


def test_a_payout_covers_the_day_its_charges_and_refunds_succeeded(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    # The processor pays out, per currency, the charges and refunds that succeeded on one UTC
    # day, two business days later. A charge or refund's `updated` is the moment it succeeded,
    # except for a re-sent charge (bumped later): days with one are left out of the comparison.
    # A charge without an amount is in the payout but not in the API's answer: left out too.
    resent = {item["charge_id"] for item in defect_items(models_warehouse, "resent_charge")}
    charge_counts: Counter[tuple[str, date]] = Counter()
    gross: Counter[tuple[str, date]] = Counter()
    unknown_days: set[tuple[str, date]] = set()
    for charge_id, currency, amount, created, updated in processor(
        models_warehouse,
        "select id, currency, amount, created, updated from charges where status = 'succeeded'",
    ):
        key = (currency.upper(), utc_date(updated))
        if charge_id in resent or amount is None:
            unknown_days |= {key, (currency.upper(), utc_date(created))}
        else:
            charge_counts[key] += 1
            gross[key] += amount
    for currency, amount, updated in processor(
        models_warehouse,
        "select currency, amount, updated from refunds where status = 'succeeded'",
    ):
        gross[(currency.upper(), utc_date(updated))] -= amount
    payouts = warehouse.execute(
        "select currency_code, covered_date, arrival_date, charge_count, gross_amount"
        " from finance.fct_payouts"
    ).fetchall()
    assert len(payouts) > 50
    compared = 0
    for currency, covered_date, arrival_date, charge_count, gross_amount in payouts:
        assert arrival_date == add_business_days(covered_date, 2)
        if (currency, covered_date) in unknown_days:
            continue
        key = (currency, covered_date)
        assert (charge_count, gross_amount) == (charge_counts[key], Decimal(gross[key]) / 100), key
        compared += 1
    assert compared > 0.8 * len(payouts)


def test_sessions_follow_the_business_definition(models_warehouse: ModelsWarehouse) -> None:
    # models/docs/_business_definitions.md: a new session starts when the visitor arrives
    # through a different UTM source than the session's; the unit test pins the cases
    unit_test = "test_sessions_compare_a_new_utm_source_with_the_sessions_own"
    result = run_dbt(
        ["test", "--select", unit_test], models_warehouse.paths, target="dev", quiet=True
    )
    # (the other result counted is the on-run-start hook, ensure_pii_hash_key)
    assert (result.status_counts["pass"], result.failures) == (1, [])
