"""Inventory snapshots read many files to a DuckDB query give what the one-file reader gives,
and clean rows reach dlt in tables of whole DuckDB row groups."""

from datetime import date
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dlt.common.storages.fsspec_filesystem import FileItemDict

import loaders.files
import loaders.logistics
from loaders.files import _CleanRows
from loaders.logistics import _read_inventories, _read_inventory
from tests.loaders.conftest import Warehouse
from tests.loaders.test_file_batches import typed_snapshot
from tests.loaders.test_redelivery import logistics_folder

PREFIX = "logistics/inventory/"


def file_item(path: Path) -> FileItemDict:
    return FileItemDict(
        {"file_url": path.as_uri(), "relative_path": path.name}, fsspec=fsspec.filesystem("file")
    )


def write(folder: Path, name: str, table: pa.Table) -> Path:
    path = folder / name
    pq.write_table(table, path)
    return path


def snapshot(day: int, skus: list[str | None]) -> pa.Table:
    table = typed_snapshot(skus)
    return table.set_column(0, "snapshot_date", pa.array([date(2025, 3, day)] * len(skus)))


@pytest.fixture
def drops(tmp_path: Path) -> list[Path]:
    """Snapshot files of every kind the fast path takes or leaves, in name order."""
    wide = snapshot(5, ["SKU-5", "SKU-6", "SKU-7"])
    return [
        write(tmp_path, "inventory_01.parquet", snapshot(1, ["SKU-1", "SKU-2", "SKU-3"])),
        write(tmp_path, "inventory_02.parquet", snapshot(2, ["SKU-1", "SKU-2"])),
        # a blank key: checked as text by the one-file reader
        write(tmp_path, "inventory_03.parquet", snapshot(3, ["SKU-1", " \t", None])),
        # large text and unsigned integers: the same values as text and bigint
        write(
            tmp_path,
            "inventory_04.parquet",
            snapshot(4, ["SKU-4", "SKU-8", "SKU-9"])
            .set_column(2, "sku", pa.array(["SKU-4", "SKU-8", "SKU-9"], pa.large_string()))
            .set_column(3, "on_hand_qty", pa.array([4_294_967_295, 0, 1], pa.uint32())),
        ),
        # another column order: a query of its own
        write(tmp_path, "inventory_05.parquet", wide.select([2, 1, 0, 3, 4, 5])),
        # an extra float column: left to the one-file reader, which casts it to text
        write(
            tmp_path,
            "inventory_06.parquet",
            snapshot(6, ["SKU-1"]).append_column("weight", pa.array([1.5])),
        ),
        write(tmp_path, "inventory_07.parquet", snapshot(7, ["SKU-1"]).slice(0, 0)),
        write(tmp_path, "inventory_08.parquet", snapshot(8, ["SKU-1", "SKU-2", "SKU-3"])),
    ]


def test_many_files_read_at_once_give_the_one_file_readers_rows(
    drops: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a query ends at the file reaching 4 rows: days 1 and 2 are read by one query
    monkeypatch.setattr(loaders.logistics, "BATCH_ROWS", 4)
    corrupt = drops[0].parent / "inventory_09.parquet"
    corrupt.write_bytes(drops[0].read_bytes()[:-20])
    files = [*drops, corrupt]
    together = list(_read_inventories([file_item(path) for path in files]))
    assert len(together) == len(files)
    left_to_one_file_reader = [
        path.name for path, rows in zip(files, together, strict=True) if rows is None
    ]
    assert left_to_one_file_reader == [
        "inventory_03.parquet",
        "inventory_06.parquet",
        "inventory_09.parquet",
    ]
    for path, rows in zip(files[:-1], together[:-1], strict=True):
        if rows is None:
            continue
        expected = _read_inventory(path.read_bytes(), f"{PREFIX}{path.name}")
        assert rows.unchecked is None and rows.quarantined is None
        assert expected.clean is not None
        assert rows.clean is not None
        assert rows.clean.schema == expected.clean.schema, path.name
        assert rows.clean.equals(expected.clean), path.name
    assert together[3] is not None and together[3].clean is not None
    assert together[3].clean.select(["sku", "on_hand_qty", "_source_line"]).to_pylist() == [
        {"sku": "SKU-4", "on_hand_qty": 4_294_967_295, "_source_line": 1},
        {"sku": "SKU-8", "on_hand_qty": 0, "_source_line": 2},
        {"sku": "SKU-9", "on_hand_qty": 1, "_source_line": 3},
    ]


def test_a_file_that_is_not_local_is_left_to_the_one_file_reader(drops: list[Path]) -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe("/drops/inventory_01.parquet", drops[0].read_bytes())
    item = FileItemDict(
        {"file_url": "memory:///drops/inventory_01.parquet", "relative_path": "x"},
        fsspec=memory,
    )
    assert list(_read_inventories([item])) == [None]


def test_a_load_of_typed_files_in_several_batches_lands_every_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loaders.logistics, "BATCH_ROWS", 5)
    monkeypatch.setattr(loaders.files, "BATCH_ROWS", 5)
    monkeypatch.setattr(loaders.files, "ROW_GROUP_ROWS", 4)
    folder = logistics_folder(tmp_path).parent / "inventory"
    for day in range(1, 8):
        write(folder, f"inventory_2025-03-0{day}.parquet", snapshot(day, ["SKU-1", "SKU-2", "S"]))
    broken = "inventory_2025-03-08.parquet"
    (folder / broken).write_bytes(b"PAR1 not a parquet file")
    warehouse = Warehouse(tmp_path)
    result = warehouse.load(["logistics"]).result("logistics")
    assert not result.ok
    assert f"cannot read {PREFIX}{broken}" in str(result.error)
    rows = warehouse.query(
        "select _source_file, _source_line, snapshot_date, sku, on_hand_qty "
        "from raw_logistics.inventory_snapshots order by 1, 2"
    )
    assert rows == [
        (f"{PREFIX}inventory_2025-03-0{day}.parquet", line, date(2025, 3, day), sku, qty)
        for day in range(1, 8)
        for line, sku, qty in ((1, "SKU-1", 2_147_483_647), (2, "SKU-2", -3), (3, "S", 0))
    ]
    assert warehouse.query("select count(*) from raw_logistics.file_deliveries") == [(7,)]


def test_clean_rows_reach_dlt_in_whole_row_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders.files, "ROW_GROUP_ROWS", 4)
    clean = _CleanRows()

    def numbers(*values: int) -> pa.Table:
        return pa.table({"n": pa.array(values, pa.int64())})

    handed = [*clean.add([numbers(1, 2, 3)])]
    assert handed == []
    handed += clean.add([numbers(4, 5, 6, 7, 8, 9)])
    # a table of other columns cannot join the rows held: both go as they are
    handed += clean.add([pa.table({"n": pa.array(["ten"])})])
    handed += clean.add([numbers(11, 12, 13, 14, 15)])
    handed += clean.rest()
    assert [table["n"].to_pylist() for table in handed] == [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [9],
        ["ten"],
        [11, 12, 13, 14],
        [15],
    ]


def test_an_empty_clean_table_still_reaches_dlt() -> None:
    empty = pa.table({"n": pa.array([], pa.int64())})
    clean = _CleanRows()
    assert [table.num_rows for table in clean.add([empty])] == [0]
    assert list(clean.rest()) == []
