"""Files are checked a batch at a time, and typed Parquet drops land without a text check."""

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import loaders.logistics
from loaders.validation import split_records
from tests.loaders.conftest import Warehouse
from tests.loaders.test_redelivery import (
    bad_shipment,
    deliver,
    load_ok,
    logistics_folder,
    quarantined,
    shipment,
    shipments_csv,
)

INVENTORY = "logistics/inventory/inventory_2025-03-01.parquet"


def write_inventory(data_dir: Path, table: pa.Table) -> None:
    folder = logistics_folder(data_dir).parent / "inventory"
    pq.write_table(table, folder / "inventory_2025-03-01.parquet")


def typed_snapshot(sku: list[str | None]) -> pa.Table:
    rows = len(sku)
    return pa.table(
        {
            "snapshot_date": pa.array([date(2025, 3, 1)] * rows, pa.date32()),
            "warehouse_code": pa.array(["EU1"] * rows, pa.string()),
            "sku": pa.array(sku, pa.string()),
            "on_hand_qty": pa.array([2_147_483_647, -3, 0][:rows], pa.int32()),
            "reserved_qty": pa.array([1, 2, 3][:rows], pa.int16()),
            "inbound_qty": pa.array([0, 0, 7][:rows], pa.int64()),
        }
    )


@pytest.fixture
def text_checks(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every text check of the logistics source, as the files each one covered."""
    calls: list[list[str]] = []

    def counting(table: pa.Table, **arguments: object) -> tuple[pa.Table, pa.Table]:
        calls.append(sorted(set(table["_source_file"].to_pylist())))
        return split_records(table, **arguments)  # type: ignore[arg-type]

    monkeypatch.setattr(loaders.logistics, "split_records", counting)
    return calls


def test_a_typed_parquet_drop_lands_as_stored_without_a_text_check(
    tmp_path: Path, text_checks: list[list[str]]
) -> None:
    write_inventory(tmp_path, typed_snapshot(["SKU-1", "SKU-2", "SKU-3"]))
    warehouse = load_ok(tmp_path, "logistics")
    assert text_checks == []
    assert warehouse.query(
        "select snapshot_date, warehouse_code, sku, on_hand_qty, reserved_qty, inbound_qty, "
        "_source_file, _source_line from raw_logistics.inventory_snapshots order by sku"
    ) == [
        (date(2025, 3, 1), "EU1", "SKU-1", 2_147_483_647, 1, 0, INVENTORY, 1),
        (date(2025, 3, 1), "EU1", "SKU-2", -3, 2, 0, INVENTORY, 2),
        (date(2025, 3, 1), "EU1", "SKU-3", 0, 3, 7, INVENTORY, 3),
    ]
    assert warehouse.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw_logistics' and table_name = 'inventory_snapshots' "
        "and column_name in ('snapshot_date', 'on_hand_qty', 'sku') order by 1"
    ) == [("on_hand_qty", "BIGINT"), ("sku", "VARCHAR"), ("snapshot_date", "DATE")]


def test_a_typed_parquet_drop_with_a_blank_key_is_checked_as_text(
    tmp_path: Path, text_checks: list[list[str]]
) -> None:
    write_inventory(tmp_path, typed_snapshot(["SKU-1", " \t", None]))
    warehouse = load_ok(tmp_path, "logistics")
    assert text_checks == [[INVENTORY]]
    assert warehouse.query("select sku from raw_logistics.inventory_snapshots") == [("SKU-1",)]
    assert quarantined(warehouse, "raw_logistics") == [
        (f"{INVENTORY}:2", "null_required_field:sku"),
        (f"{INVENTORY}:3", "null_required_field:sku"),
    ]


def test_csv_files_are_checked_together_and_keep_their_own_file_and_line(
    tmp_path: Path, text_checks: list[list[str]]
) -> None:
    folder = logistics_folder(tmp_path)
    deliver(folder / "shipments_2025-01-01.csv", shipments_csv(shipment("SHP-1")), version=1)
    deliver(
        folder / "shipments_2025-01-02.csv",
        shipments_csv(bad_shipment("SHP-2"), shipment("SHP-3")),
        version=1,
    )
    warehouse = load_ok(tmp_path, "logistics")
    day_1, day_2 = (f"logistics/shipments/shipments_2025-01-0{day}.csv" for day in (1, 2))
    assert text_checks == [[day_1, day_2]]
    assert warehouse.query(
        "select shipment_id, _source_file, _source_line from raw_logistics.shipments order by 1"
    ) == [("SHP-1", day_1, 2), ("SHP-3", day_2, 3)]
    assert quarantined(warehouse, "raw_logistics") == [
        (f"{day_2}:2", "unparsable_timestamp:shipped_at")
    ]
    assert warehouse.query("select _source_file from raw_logistics.quarantined_records") == [
        (day_2,)
    ]


def test_a_file_whose_batch_check_fails_is_left_out_and_the_others_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = logistics_folder(tmp_path)
    deliver(folder / "shipments_2025-01-01.csv", shipments_csv(shipment("SHP-1")), version=1)
    deliver(folder / "shipments_2025-01-02.csv", shipments_csv(shipment("SHP-2")), version=1)
    broken = "logistics/shipments/shipments_2025-01-02.csv"

    def failing_on_day_2(table: pa.Table, **arguments: object) -> tuple[pa.Table, pa.Table]:
        if broken in table["_source_file"].to_pylist():
            raise ValueError("check failed")
        return split_records(table, **arguments)  # type: ignore[arg-type]

    monkeypatch.setattr(loaders.logistics, "split_records", failing_on_day_2)
    warehouse = Warehouse(tmp_path)
    result = warehouse.load(["logistics"]).result("logistics")
    assert not result.ok
    assert f"cannot check {broken}: ValueError: check failed" in str(result.error)
    assert warehouse.query("select shipment_id from raw_logistics.shipments") == [("SHP-1",)]
    assert warehouse.query("select source_file from raw_logistics.file_deliveries") == [
        ("logistics/shipments/shipments_2025-01-01.csv",)
    ]
