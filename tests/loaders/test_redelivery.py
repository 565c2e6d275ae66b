"""A re-delivered file replaces everything its earlier delivery landed, clean and quarantined."""

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

from tests.loaders.conftest import Warehouse

SHIPMENT_HEADER = (
    "shipment_id,order_number,warehouse_code,carrier_code,service_level,shipped_at,"
    "package_count,weight_kg,shipping_cost,currency_code,destination_country,destination_postcode"
)


def shipment(shipment_id: str, shipped_at: str = "2025-01-01T10:00:00Z") -> str:
    return f"{shipment_id},LK-0000001,EU1,DHL,standard,{shipped_at},1,1.500,4.99,EUR,DE,10115"


# a shipment whose shipping time does not parse is quarantined
def bad_shipment(shipment_id: str) -> str:
    return shipment(shipment_id, shipped_at="yesterday")


def deliver(path: Path, content: bytes, version: int) -> None:
    """Write a file as the 3PL delivers it: a re-delivery gets a later modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    stamp = 1_750_000_000 + version * 3600
    os.utime(path, (stamp, stamp))


def shipments_csv(*rows: str) -> bytes:
    return ("\n".join([SHIPMENT_HEADER, *rows]) + "\n").encode()


def logistics_folder(data_dir: Path) -> Path:
    root = data_dir / "sources" / "logistics"
    for kind in ("shipments", "tracking", "inventory"):
        (root / kind).mkdir(parents=True, exist_ok=True)
    return root / "shipments"


def file_rows(warehouse: Warehouse, table: str, source_file: str) -> list[tuple]:
    return warehouse.query(
        f"select shipment_id, _source_line from raw_logistics.{table} "
        "where _source_file = ? order by _source_line",
        [source_file],
    )


def quarantined(warehouse: Warehouse, dataset: str) -> list[tuple[str, str]]:
    return warehouse.query(
        f"select source_location, reason from {dataset}.quarantined_records order by 1"
    )


def load_ok(data_dir: Path, source: str) -> Warehouse:
    warehouse = Warehouse(data_dir)
    result = warehouse.load([source]).result(source)
    assert result.ok, result.error
    return warehouse


@pytest.fixture
def two_days(tmp_path: Path) -> tuple[Path, Path]:
    """Two shipment files loaded once: day 1 with one bad row at line 4, day 2 with one."""
    folder = logistics_folder(tmp_path)
    day_1 = folder / "shipments_2025-01-01.csv"
    deliver(
        day_1,
        shipments_csv(
            shipment("SHP-1"),
            shipment("SHP-2"),
            bad_shipment("SHP-3"),
            shipment("SHP-4"),
            shipment("SHP-5"),
        ),
        version=1,
    )
    deliver(
        folder / "shipments_2025-01-02.csv",
        shipments_csv(shipment("SHP-6"), bad_shipment("SHP-7"), shipment("SHP-8")),
        version=1,
    )
    warehouse = load_ok(tmp_path, "logistics")
    assert warehouse.count("raw_logistics.shipments") == 6
    assert len(quarantined(warehouse, "raw_logistics")) == 2
    return tmp_path, day_1


DAY_1 = "logistics/shipments/shipments_2025-01-01.csv"
DAY_2 = "logistics/shipments/shipments_2025-01-02.csv"


def test_a_redelivered_file_replaces_its_rows_and_its_quarantined_rows(
    two_days: tuple[Path, Path],
) -> None:
    data_dir, day_1 = two_days
    before = load_ok(data_dir, "logistics")
    day_2_before = before.query(
        "select shipment_id, _source_line, _dlt_load_id from raw_logistics.shipments "
        "where _source_file = ? order by 1",
        [DAY_2],
    )
    # SHP-2 is gone and the bad row moved from line 4 to line 5
    deliver(
        day_1,
        shipments_csv(
            shipment("SHP-1"), shipment("SHP-4"), shipment("SHP-5"), bad_shipment("SHP-3")
        ),
        version=2,
    )
    warehouse = load_ok(data_dir, "logistics")

    assert warehouse.report.result("logistics").files_read == [DAY_1]
    assert file_rows(warehouse, "shipments", DAY_1) == [("SHP-1", 2), ("SHP-4", 3), ("SHP-5", 4)]
    assert quarantined(warehouse, "raw_logistics") == [
        (f"{DAY_1}:5", "unparsable_timestamp:shipped_at"),
        (f"{DAY_2}:3", "unparsable_timestamp:shipped_at"),
    ]
    # the other file is untouched: same rows from the same load
    assert (
        warehouse.query(
            "select shipment_id, _source_line, _dlt_load_id from raw_logistics.shipments "
            "where _source_file = ? order by 1",
            [DAY_2],
        )
        == day_2_before
    )


def test_a_redelivered_file_without_clean_rows_removes_all_it_landed(
    two_days: tuple[Path, Path],
) -> None:
    data_dir, day_1 = two_days
    deliver(day_1, shipments_csv(bad_shipment("SHP-3")), version=2)
    warehouse = load_ok(data_dir, "logistics")

    assert file_rows(warehouse, "shipments", DAY_1) == []
    assert warehouse.count("raw_logistics.shipments") == 2
    assert quarantined(warehouse, "raw_logistics") == [
        (f"{DAY_1}:2", "unparsable_timestamp:shipped_at"),
        (f"{DAY_2}:3", "unparsable_timestamp:shipped_at"),
    ]


def test_a_redelivered_file_without_bad_rows_clears_its_quarantined_rows(
    two_days: tuple[Path, Path],
) -> None:
    data_dir, day_1 = two_days
    deliver(day_1, shipments_csv(shipment("SHP-1"), shipment("SHP-3")), version=2)
    warehouse = load_ok(data_dir, "logistics")

    assert file_rows(warehouse, "shipments", DAY_1) == [("SHP-1", 2), ("SHP-3", 3)]
    assert quarantined(warehouse, "raw_logistics") == [
        (f"{DAY_2}:3", "unparsable_timestamp:shipped_at"),
    ]


def test_a_row_in_two_files_stays_when_one_file_drops_it(tmp_path: Path) -> None:
    folder = logistics_folder(tmp_path)
    deliver(folder / "shipments_2025-01-01.csv", shipments_csv(shipment("SHP-1")), version=1)
    day_2 = folder / "shipments_2025-01-02.csv"
    deliver(day_2, shipments_csv(shipment("SHP-1"), shipment("SHP-2")), version=1)
    warehouse = load_ok(tmp_path, "logistics")
    # raw keeps what each file delivered; staging keeps one row per shipment
    assert warehouse.query(
        "select shipment_id, _source_file from raw_logistics.shipments order by 1, 2"
    ) == [("SHP-1", DAY_1), ("SHP-1", DAY_2), ("SHP-2", DAY_2)]

    deliver(day_2, shipments_csv(shipment("SHP-2")), version=2)
    warehouse = load_ok(tmp_path, "logistics")
    assert warehouse.query(
        "select shipment_id, _source_file from raw_logistics.shipments order by 1, 2"
    ) == [("SHP-1", DAY_1), ("SHP-2", DAY_2)]


def event(event_id: str) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": "page_view",
            "occurred_at": "2025-01-01T10:00:00Z",
            "anonymous_id": "anon-1",
            "page_url": "https://larkspur.example/",
        }
    )


def events_gz(*lines: str) -> bytes:
    return gzip.compress(("\n".join(lines) + "\n").encode())


def test_a_redelivered_web_file_replaces_its_events_and_quarantined_lines(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sources" / "web"
    day_1 = folder / "events_2025-01-01.jsonl.gz"
    deliver(day_1, events_gz(event("e1"), event("e2"), '{"event_id": "e3", cut', event("e4")), 1)
    deliver(folder / "events_2025-01-02.jsonl.gz", events_gz(event("e5"), "not json"), 1)
    warehouse = load_ok(tmp_path, "web")
    assert warehouse.count("raw_web.events") == 4
    assert len(quarantined(warehouse, "raw_web")) == 2

    # e2 is gone and the cut line moved from line 3 to line 4
    deliver(day_1, events_gz(event("e1"), event("e4"), event("e6"), '{"event_id": "e3", cut'), 2)
    warehouse = load_ok(tmp_path, "web")
    assert warehouse.query(
        "select event_id, _source_line from raw_web.events where _source_file = ? order by 2",
        ["web/events_2025-01-01.jsonl.gz"],
    ) == [("e1", 1), ("e4", 2), ("e6", 3)]
    assert warehouse.count("raw_web.events") == 4
    assert quarantined(warehouse, "raw_web") == [
        ("web/events_2025-01-01.jsonl.gz:4", "invalid_json"),
        ("web/events_2025-01-02.jsonl.gz:2", "invalid_json"),
    ]


def test_a_load_without_redelivered_files_deletes_nothing(
    two_days: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, day_1 = two_days
    replacements: list[str] = []
    execute_sql = DuckDbSqlClient.execute_sql

    def recording(self: DuckDbSqlClient, sql: Any, *args: Any, **kwargs: Any) -> Any:
        # the replacement's deletes read the deliveries (dlt's own merge deletes do not)
        if "delete from" in str(sql).lower() and "file_deliveries" in str(sql):
            replacements.append(str(sql))
        return execute_sql(self, sql, *args, **kwargs)

    monkeypatch.setattr(DuckDbSqlClient, "execute_sql", recording)
    deliver(day_1, shipments_csv(shipment("SHP-1")), version=2)
    load_ok(data_dir, "logistics")
    assert replacements, "the re-delivered file's older rows are deleted"

    replacements.clear()
    deliver(day_1.with_name("shipments_2025-01-03.csv"), shipments_csv(shipment("SHP-9")), 1)
    warehouse = load_ok(data_dir, "logistics")
    assert replacements == []
    assert file_rows(warehouse, "shipments", DAY_1) == [("SHP-1", 2)]
