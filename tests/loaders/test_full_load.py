"""A full load of a simulated company matches the simulator's ground truth."""

from collections.abc import Callable
from datetime import datetime

import pytest

from loaders.runner import pipelines_dir
from simulator.ground_truth import SHOP_TABLE_KEYS
from tests.loaders.conftest import DAYS, Warehouse
from tests.loaders.expected import (
    EXPECTED_CLEAN,
    FILE_TABLE_KEYS,
    ad_reports_and_api_state,
    also_rejected_ids,
    defect_items,
    entities_loaded,
    malformed_ids,
)


def test_every_source_loads_without_error(warehouse: Warehouse) -> None:
    assert [(r.name, r.error) for r in warehouse.report.results if not r.ok] == []
    assert [r.name for r in warehouse.report.results] == [
        "shop",
        "payments",
        "ads",
        "fx",
        "web",
        "logistics",
    ]


@pytest.mark.parametrize("table", list(SHOP_TABLE_KEYS))
def test_shop_tables_hold_every_current_row(warehouse: Warehouse, table: str) -> None:
    assert (
        warehouse.count(f"raw_shop.{table}")
        == warehouse.ground_truth["tables"][f"shop.{table}"]["rows"]
    )


def test_hard_deleted_customers_are_gone(warehouse: Warehouse) -> None:
    erased = [item["customer_id"] for item in defect_items(warehouse, "hard_deleted_customer")]
    assert erased, "the simulation should erase some customers"
    placeholders = ", ".join("?" * len(erased))
    assert (
        warehouse.scalar(
            f"select count(*) from raw_shop.customers where customer_id in ({placeholders})",
            erased,
        )
        == 0
    )
    assert (
        warehouse.scalar(
            f"select count(*) from raw_shop.addresses where customer_id in ({placeholders})",
            erased,
        )
        == 0
    )


@pytest.mark.parametrize("table", sorted(EXPECTED_CLEAN))
def test_clean_tables_hold_each_valid_entity(warehouse: Warehouse, table: str) -> None:
    assert entities_loaded(warehouse, table) == EXPECTED_CLEAN[table](warehouse)


def test_file_tables_hold_each_delivered_line_once(warehouse: Warehouse) -> None:
    # a duplicate is kept with its file and line (staging keeps one row per key), so that a
    # re-delivered file can replace exactly what it delivered
    for table in FILE_TABLE_KEYS:
        assert (
            warehouse.scalar(
                f"select count(*) - count(distinct (_source_file, _source_line)) from {table}"
            )
            == 0
        )
    duplicated = {item["event_id"] for item in defect_items(warehouse, "duplicate_web_event")}
    placeholders = ", ".join("?" * len(duplicated))
    assert warehouse.scalar(
        f"select count(*) from raw_web.events where event_id in ({placeholders})",
        list(duplicated),
    ) > len(duplicated)


def test_duplicates_of_api_records_land_once(warehouse: Warehouse) -> None:
    assert warehouse.scalar("select count(*) - count(distinct id) from raw_payments.charges") == 0
    resent = [item["charge_id"] for item in defect_items(warehouse, "resent_charge")]
    assert resent
    placeholders = ", ".join("?" * len(resent))
    assert warehouse.scalar(
        f"select count(*) from raw_payments.charges where id in ({placeholders})", resent
    ) == len(set(resent))


def quarantined(warehouse: Warehouse, dataset: str) -> list[tuple[str, str, str, str]]:
    return warehouse.query(
        f"select source_table, reason, source_location, raw_payload "
        f"from {dataset}.quarantined_records"
    )


def test_malformed_lines_and_rows_are_quarantined_with_file_and_line(
    warehouse: Warehouse,
) -> None:
    web = {(reason, location) for _, reason, location, _ in quarantined(warehouse, "raw_web")}
    for item in defect_items(warehouse, "malformed_web_line"):
        assert ("invalid_json", f"web/{item['file']}:{item['line']}") in web
    logistics = {
        (table, reason, location)
        for table, reason, location, _ in quarantined(warehouse, "raw_logistics")
    }
    for defect, table, folder in [
        ("malformed_shipments_row", "shipments", "shipments"),
        ("malformed_tracking_row", "tracking_events", "tracking"),
    ]:
        items = defect_items(warehouse, defect)
        assert items
        for item in items:
            location = f"logistics/{folder}/{item['file']}:{item['line']}"
            assert (table, "malformed_csv_row", location) in logistics


@pytest.mark.parametrize(
    ("dataset", "defect", "id_field", "reason_of"),
    [
        ("raw_web", "null_web_field", "event_id", lambda i: f"null_required_field:{i['field']}"),
        ("raw_payments", "null_charge_amount", "charge_id", lambda i: "null_required_field:amount"),
    ],
)
def test_invalid_records_are_quarantined_with_their_reason(
    warehouse: Warehouse,
    dataset: str,
    defect: str,
    id_field: str,
    reason_of: Callable[[dict], str],
) -> None:
    rows = quarantined(warehouse, dataset)
    also_malformed = malformed_ids(warehouse, defect)
    for item in defect_items(warehouse, defect):
        if item[id_field] in also_malformed:
            continue
        matches = [
            (reason, location) for _, reason, location, payload in rows if item[id_field] in payload
        ]
        assert matches, f"{item} is not in {dataset}.quarantined_records"
        assert {reason for reason, _ in matches} == {reason_of(item)}


@pytest.mark.parametrize(
    ("defect", "id_field", "table", "key", "column", "value_of"),
    [
        (
            "unknown_refund_reason",
            "refund_id",
            "raw_payments.refunds",
            "id",
            "reason",
            lambda i: i["reason"],
        ),
        (
            "null_shipment_order_number",
            "shipment_id",
            "raw_logistics.shipments",
            "shipment_id",
            "order_number",
            lambda i: None,
        ),
        (
            "unknown_tracking_event_code",
            "tracking_event_id",
            "raw_logistics.tracking_events",
            "tracking_event_id",
            "event_code",
            lambda i: i["event_code"],
        ),
        (
            "unknown_web_event_type",
            "event_id",
            "raw_web.events",
            "event_id",
            "event_type",
            lambda i: i["event_type"],
        ),
    ],
)
def test_unknown_codes_and_missing_references_land_as_sent(
    warehouse: Warehouse,
    defect: str,
    id_field: str,
    table: str,
    key: str,
    column: str,
    value_of: Callable[[dict], str | None],
) -> None:
    # quarantine is for what the warehouse cannot represent; these records are real
    also_rejected = also_rejected_ids(warehouse, defect)
    expected = {
        item[id_field]: value_of(item)
        for item in defect_items(warehouse, defect)
        if item[id_field] not in also_rejected
    }
    assert expected
    placeholders = ", ".join("?" * len(expected))
    landed = dict(
        warehouse.query(
            f"select {key}, {column} from {table} where {key} in ({placeholders})",
            list(expected),
        )
    )
    assert landed == expected


def test_quarantine_counts_are_reported(warehouse: Warehouse) -> None:
    web = warehouse.report.result("web")
    assert web.quarantined[("events", "invalid_json")] == len(
        defect_items(warehouse, "malformed_web_line")
    )
    assert warehouse.count("raw_web.quarantined_records") == web.quarantined_rows


def test_mixed_offsets_land_in_utc(warehouse: Warehouse) -> None:
    # an event written with a local offset must land at the same instant, in UTC
    keys = [i["key"] for i in defect_items(warehouse, "mixed_offset") if i["table"] == "tracking"]
    placeholders = ", ".join("?" * len(keys))
    rows = warehouse.query(
        "select _source_file, _source_line, event_at from raw_logistics.tracking_events "
        f"where tracking_event_id in ({placeholders})",
        keys,
    )
    checked = 0
    for source_file, line, event_at in rows:
        raw = (warehouse.data_dir / "sources" / source_file).read_bytes().decode("cp1252")
        written = datetime.fromisoformat(raw.splitlines()[line - 1].split(";")[4])
        assert event_at == written
        assert event_at.utcoffset().total_seconds() == 0
        checked += written.utcoffset().total_seconds() != 0
    assert checked > 0


def test_schema_change_adds_risk_score_and_maps_freight_cost(warehouse: Warehouse) -> None:
    change_date = warehouse.ground_truth["schema_change"]["date"]
    assert (
        warehouse.scalar("select count(*) from raw_payments.charges where risk_score is not null")
        > 0
    )
    assert (
        warehouse.scalar(
            "select count(*) from raw_payments.charges "
            "where risk_score is not null and to_timestamp(created)::date < ?::date",
            [change_date],
        )
        == 0
    )
    by_name = dict(
        warehouse.query(
            "select shipping_cost_source_column, count(shipping_cost) "
            "from raw_logistics.shipments group by all"
        )
    )
    assert by_name["freight_cost"] > 0
    assert by_name["shipping_cost"] > 0
    assert (
        warehouse.scalar("select count(*) from raw_logistics.shipments where shipping_cost is null")
        == 0
    )


def test_redelivered_files_land_their_corrected_content(warehouse: Warehouse) -> None:
    items = defect_items(warehouse, "redelivered_file")
    assert items
    malformed = {
        item["id"]
        for defect in ("malformed_shipments_row", "malformed_tracking_row")
        for item in defect_items(warehouse, defect)
    }
    for item in items:
        table, key, folder = (
            ("shipments", "shipment_id", "shipments")
            if item["file"].startswith("shipments")
            else ("tracking_events", "tracking_event_id", "tracking")
        )
        for missing in set(item["missing_ids"]) - malformed:
            assert (
                warehouse.scalar(
                    f"select count(*) from raw_logistics.{table} "
                    f"where {key} = ? and _source_file = ?",
                    [missing, f"logistics/{folder}/{item['file']}"],
                )
                == 1
            )


def test_load_runs_log_every_source(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "select source, status, files_read, quarantined_rows, rows_per_table "
        "from raw_meta.load_runs where run_id = ?",
        [warehouse.report.run_id],
    )
    by_source = {row[0]: row for row in rows}
    assert set(by_source) == {"shop", "payments", "ads", "fx", "web", "logistics"}
    assert {row[1] for row in rows} == {"ok"}
    assert by_source["web"][2] == DAYS
    assert by_source["web"][3] == warehouse.report.result("web").quarantined_rows
    assert '"events"' in by_source["web"][4]


def test_restated_ad_reports_hold_the_platforms_latest_numbers(warehouse: Warehouse) -> None:
    assert defect_items(warehouse, "ad_report_restatement")
    loaded, latest = ad_reports_and_api_state(warehouse)
    assert loaded == latest


def test_loaded_packages_leave_no_copy_of_the_rows(warehouse: Warehouse) -> None:
    # dlt's load packages are thrown away once loaded: the raw tables hold the rows
    folder = pipelines_dir(warehouse.data_dir, "duckdb")
    assert list(folder.glob("*/load/loaded/*")), "dlt keeps a record of each loaded package"
    assert list(folder.glob("*/load/loaded/*/completed_jobs/*")) == []
