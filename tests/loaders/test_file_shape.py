"""Files whose encoding, delimiter or line length is not what the source declares."""

import gzip
import json
from pathlib import Path

from loaders.files import read_csv_text
from tests.loaders.conftest import Warehouse
from tests.loaders.test_redelivery import deliver, event, logistics_folder

TRACKING_HEADER = (
    "tracking_event_id;shipment_id;carrier_code;event_code;event_at;location;country_code"
)


def tracking_row(event_id: str, location: str) -> str:
    return f"{event_id};SHP-1;DHL;DELIVERED;2025-01-01T10:00:00Z;{location};DE"


def tracking_csv(*rows: str, header: str = TRACKING_HEADER, encoding: str = "cp1252") -> bytes:
    return "\r\n".join([header, *rows, ""]).encode(encoding)


def tracking_folder(data_dir: Path) -> Path:
    logistics_folder(data_dir)
    return data_dir / "sources" / "logistics" / "tracking"


def load_logistics(data_dir: Path) -> Warehouse:
    warehouse = Warehouse(data_dir)
    warehouse.load(["logistics"])
    return warehouse


def locations(warehouse: Warehouse) -> list[tuple[str, str]]:
    return warehouse.query(
        "select tracking_event_id, location from raw_logistics.tracking_events order by 1"
    )


def test_a_windows_1252_file_decodes_its_accents(tmp_path: Path) -> None:
    deliver(
        tracking_folder(tmp_path) / "tracking_2025-01-01.csv",
        tracking_csv(tracking_row("TE-1", "München"), tracking_row("TE-2", "Besançon")),
        version=1,
    )
    warehouse = load_logistics(tmp_path)
    assert warehouse.report.ok, warehouse.report.result("logistics").error
    assert locations(warehouse) == [("TE-1", "München"), ("TE-2", "Besançon")]


def test_utf8_text_in_a_file_declared_windows_1252_is_not_mojibake(tmp_path: Path) -> None:
    deliver(
        tracking_folder(tmp_path) / "tracking_2025-01-01.csv",
        tracking_csv(
            tracking_row("TE-1", "München"), tracking_row("TE-2", "Malmö"), encoding="utf-8"
        ),
        version=1,
    )
    warehouse = load_logistics(tmp_path)
    assert warehouse.report.ok, warehouse.report.result("logistics").error
    assert locations(warehouse) == [("TE-1", "München"), ("TE-2", "Malmö")]


def test_a_file_mixing_utf8_and_windows_1252_lines_decodes_each_line(tmp_path: Path) -> None:
    content = tracking_csv(tracking_row("TE-1", "München")) + tracking_row("TE-2", "Malmö").encode(
        "utf-8"
    )
    deliver(tracking_folder(tmp_path) / "tracking_2025-01-01.csv", content, version=1)
    warehouse = load_logistics(tmp_path)
    assert warehouse.report.ok, warehouse.report.result("logistics").error
    assert locations(warehouse) == [("TE-1", "München"), ("TE-2", "Malmö")]


def raw_columns(warehouse: Warehouse, table: str) -> list[str]:
    return [
        name
        for (name,) in warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw_logistics' and table_name = ? order by 1",
            [table],
        )
    ]


def test_a_header_with_the_wrong_delimiter_refuses_the_file_without_a_new_column(
    tmp_path: Path,
) -> None:
    folder = tracking_folder(tmp_path)
    deliver(folder / "tracking_2025-01-01.csv", tracking_csv(tracking_row("TE-1", "Köln")), 1)
    first = load_logistics(tmp_path)
    assert first.report.ok
    columns = raw_columns(first, "tracking_events")

    comma_header = TRACKING_HEADER.replace(";", ",")
    wrong = folder / "tracking_2025-01-02.csv"
    deliver(
        wrong,
        tracking_csv(tracking_row("TE-2", "Graz").replace(";", ","), header=comma_header),
        version=1,
    )
    refused = load_logistics(tmp_path)
    result = refused.report.result("logistics")
    assert not result.ok
    location = "logistics/tracking/tracking_2025-01-02.csv"
    assert f"cannot read {location}: " in result.error
    assert f"header {comma_header!r}" in result.error
    assert "lacks the columns event_at, event_code, shipment_id, tracking_event_id" in result.error
    assert "read again on the next run" in result.error
    assert location not in result.files_read
    assert raw_columns(refused, "tracking_events") == columns
    assert refused.count("raw_logistics.tracking_events") == 1
    assert refused.count("raw_logistics.quarantined_records") == 0

    # the corrected file is read on the next run
    deliver(wrong, tracking_csv(tracking_row("TE-2", "Graz")), version=2)
    fixed = load_logistics(tmp_path)
    assert fixed.report.ok, fixed.report.result("logistics").error
    assert fixed.report.result("logistics").files_read == [location]
    assert locations(fixed) == [("TE-1", "Köln"), ("TE-2", "Graz")]


def test_a_line_longer_than_the_limit_is_quarantined_and_the_rest_loads(tmp_path: Path) -> None:
    huge = json.dumps({**json.loads(event("e2")), "page_url": "x" * 3_000_000})
    deliver(
        tmp_path / "sources" / "web" / "events_2025-01-01.jsonl.gz",
        gzip.compress("\n".join([event("e1"), huge, event("e3")]).encode()),
        version=1,
    )
    warehouse = Warehouse(tmp_path)
    result = warehouse.load(["web"]).result("web")
    assert result.ok, result.error
    assert warehouse.query("select event_id, _source_line from raw_web.events order by 1") == [
        ("e1", 1),
        ("e3", 3),
    ]
    ((location, reason, payload_length),) = warehouse.query(
        "select source_location, reason, length(raw_payload) from raw_web.quarantined_records"
    )
    assert (location, reason) == ("web/events_2025-01-01.jsonl.gz:2", "line_too_long")
    assert payload_length < 5_000
    assert result.quarantined == {("events", "line_too_long"): 1}


def test_a_csv_row_longer_than_a_read_block_loads() -> None:
    long_location = "x" * 3_000_000
    content = tracking_csv(tracking_row("TE-1", long_location), tracking_row("TE-2", "Graz"))
    rows, malformed = read_csv_text(content, delimiter=";", encoding="cp1252")
    assert malformed == []
    assert rows["location"].to_pylist() == [long_location, "Graz"]
    assert rows["_source_line"].to_pylist() == [2, 3]
