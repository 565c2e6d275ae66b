"""Loads into the lake (`--destination spark`: dlt's filesystem destination, Parquet) keep the
guarantees of the SQL destinations without deleting rows in place: a re-delivered file still
replaces what its earlier delivery landed."""

from pathlib import Path

import duckdb

from loaders import load
from tests.loaders.test_redelivery import (
    DAY_1,
    DAY_2,
    bad_shipment,
    deliver,
    logistics_folder,
    shipment,
    shipments_csv,
)


def lake_query(data_dir: Path, table: str, columns: str) -> list[tuple]:
    """`columns` of a lake table's rows, read from its Parquet files, sorted."""
    files = data_dir / "lake" / "raw_logistics" / table / "*.parquet"
    with duckdb.connect() as connection:
        return connection.execute(
            f"select {columns} from read_parquet('{files}', union_by_name = true) order by all"
        ).fetchall()


def load_lake(data_dir: Path) -> None:
    report = load(["logistics"], data_dir=data_dir, destination="spark")
    assert report.ok, report.result("logistics").error


def test_a_redelivered_file_replaces_its_rows_in_the_lake(tmp_path: Path) -> None:
    day_1 = logistics_folder(tmp_path) / "shipments_2025-01-01.csv"
    deliver(day_1, shipments_csv(shipment("SHP-1"), shipment("SHP-2"), bad_shipment("SHP-3")), 1)
    deliver(
        day_1.with_name("shipments_2025-01-02.csv"),
        shipments_csv(shipment("SHP-6"), bad_shipment("SHP-7")),
        1,
    )
    load_lake(tmp_path)
    day_2_before = [
        row
        for row in lake_query(tmp_path, "shipments", "_source_file, shipment_id, _dlt_load_id")
        if row[0] == DAY_2
    ]

    # SHP-2 is gone, the bad row moved from line 4 to line 3
    deliver(day_1, shipments_csv(shipment("SHP-1"), bad_shipment("SHP-3")), 2)
    load_lake(tmp_path)

    shipments = lake_query(tmp_path, "shipments", "_source_file, shipment_id, _source_line")
    assert shipments == [(DAY_1, "SHP-1", 2), (DAY_2, "SHP-6", 2)]
    assert lake_query(tmp_path, "quarantined_records", "source_location") == [
        (f"{DAY_1}:3",),
        (f"{DAY_2}:3",),
    ]
    # the other file's rows stay those of their first load
    assert [
        row
        for row in lake_query(tmp_path, "shipments", "_source_file, shipment_id, _dlt_load_id")
        if row[0] == DAY_2
    ] == day_2_before
    # no file is left half-written
    assert not list((tmp_path / "lake").rglob("*.partial"))
