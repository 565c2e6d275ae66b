"""The web loader's reading of JSON lines: split and numbered in Arrow as the CSV reader numbers
them, and checked in one pass that finds the export's new fields too."""

import hashlib
import json

import pyarrow as pa
import pytest

from loaders.files import _read_lines_as_csv, read_text_lines
from loaders.validation import split_json_lines
from loaders.web import _check_events, _without_blank_lines, settings


@pytest.mark.parametrize(
    "content",
    [
        b'{"a":1}\n{"a":2}\n',
        b'{"a":1}\n{"a":2}',
        b"\n\n{}\n\n",
        b"\n",
        b'  \n{"a":"M\xc3\xbcnchen"}\n\t\n',
        # these take the CSV reader: CR line ends, the separator byte, a byte order mark
        b'{"a":1}\r\n{"a":2}\r\n',
        b'{"a":1}\r{"a":2}\n{"a":3}',
        b'{"a":1}\n{"a":\x1e2}\n{"a":3}\n',
        b'\xef\xbb\xbf{"a":1}\n{"a":2}\n',
    ],
)
def test_lines_are_numbered_as_the_csv_reader_numbers_them(content: bytes) -> None:
    lines, too_long = read_text_lines(content, "events", "web/x.jsonl.gz")
    assert lines.equals(_read_lines_as_csv(content))
    assert too_long.num_rows == 0


def test_a_line_holding_the_separator_byte_keeps_its_place() -> None:
    lines, _ = read_text_lines(b'{"a":1}\n{"a":\x1e2}\n{"a":3}\n', "events", "web/x.jsonl.gz")
    assert lines.to_pydict() == {
        "line": ['{"a":1}', '{"a":\x1e2}', '{"a":3}'],
        "_source_line": [1, 2, 3],
    }


def test_blank_lines_are_dropped_and_the_others_keep_their_numbers() -> None:
    text = ["{}", "", "  ", "\u3000", " {}", "x", "\t{"]
    lines = pa.table({"line": text, "_source_line": list(range(1, len(text) + 1))})
    kept = _without_blank_lines(lines)
    assert kept.to_pydict() == {"line": ["{}", " {}", "x", "\t{"], "_source_line": [1, 5, 6, 7]}


def event(number: int, **fields: object) -> dict[str, object]:
    return {
        "event_id": f"e{number}",
        "event_type": "page_view",
        "occurred_at": "2025-03-01T10:00:00+01:00",
        "anonymous_id": "anon",
        "customer_id": 7,
        **fields,
    }


def batch(*files: tuple[str, list[str]]) -> pa.Table:
    """A batch of lines as `read_new_files` hands it to the check: files in order."""
    rows = [
        {"line": line, "_source_line": number, "_source_file": name}
        for name, lines in files
        for number, line in enumerate(lines, start=1)
    ]
    schema = pa.schema(
        [("line", pa.string()), ("_source_line", pa.int64()), ("_source_file", pa.string())]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def test_new_fields_land_as_text_columns_found_in_the_same_pass() -> None:
    day_1 = [
        json.dumps(event(1)),
        json.dumps(event(2, consent_mode="granted", screen={"w": 390, "h": 844})),
        # a new key seen only on a quarantined line still makes its column
        json.dumps({**event(3, only_on_a_bad_line="x"), "event_id": None}),
        '{"event_id":"e4","event_type":"click","occurred_at":"2025-03-01T09:00:00Z",'
        '"anonymous_id":"a","consent_mode":"first","consent_mode":"second"}',
    ]
    day_2 = ["[1]", "5", "null", "{}", "{not json", '  {"event_id":"e6"}', json.dumps(event(7))]
    clean, quarantined = _check_events(
        batch(("web/events_2025-03-01.jsonl.gz", day_1), ("web/events_2025-03-02.jsonl.gz", day_2))
    )

    new_fields = ["consent_mode", "only_on_a_bad_line", "screen"]
    assert clean.column_names == [
        *settings.EVENT_FIELDS,
        *new_fields,
        "_source_file",
        "_source_line",
    ]
    for field in new_fields:
        assert clean.schema.field(field).type == pa.string()
    assert clean.schema.field("event_id").nullable is False
    assert clean.schema.field("customer_id").type == pa.int64()
    assert clean.select(
        ["event_id", *new_fields, "customer_id", "_source_file", "_source_line"]
    ).to_pylist() == [
        {
            "event_id": "e1",
            "consent_mode": None,
            "only_on_a_bad_line": None,
            "screen": None,
            "customer_id": 7,
            "_source_file": "web/events_2025-03-01.jsonl.gz",
            "_source_line": 1,
        },
        {
            "event_id": "e2",
            "consent_mode": "granted",
            "only_on_a_bad_line": None,
            "screen": '{"w":390,"h":844}',
            "customer_id": 7,
            "_source_file": "web/events_2025-03-01.jsonl.gz",
            "_source_line": 2,
        },
        {
            "event_id": "e4",
            # a key sent twice reads as its first value, as every documented field does
            "consent_mode": "first",
            "only_on_a_bad_line": None,
            "screen": None,
            "customer_id": None,
            "_source_file": "web/events_2025-03-01.jsonl.gz",
            "_source_line": 4,
        },
        {
            "event_id": "e7",
            "consent_mode": None,
            "only_on_a_bad_line": None,
            "screen": None,
            "customer_id": 7,
            "_source_file": "web/events_2025-03-02.jsonl.gz",
            "_source_line": 7,
        },
    ]
    assert str(clean["occurred_at"][0]) == "2025-03-01 09:00:00+00:00"

    def rejected(location: str, reason: str, payload: str) -> dict[str, str]:
        return {
            "quarantine_id": hashlib.md5(f"events|{reason}|{location}".encode()).hexdigest(),
            "source_table": "events",
            "reason": reason,
            "source_location": location,
            "raw_payload": payload,
            "_source_file": location.rsplit(":", 1)[0],
        }

    day_2_file = "web/events_2025-03-02.jsonl.gz"
    assert quarantined.to_pylist() == [
        rejected("web/events_2025-03-01.jsonl.gz:3", "null_required_field:event_id", day_1[2]),
        rejected(f"{day_2_file}:1", "invalid_json", "[1]"),
        rejected(f"{day_2_file}:2", "invalid_json", "5"),
        rejected(f"{day_2_file}:3", "invalid_json", "null"),
        rejected(f"{day_2_file}:4", "null_required_field:event_id", "{}"),
        rejected(f"{day_2_file}:5", "invalid_json", "{not json"),
        rejected(f"{day_2_file}:6", "null_required_field:event_type", day_2[5]),
    ]


def test_a_batch_without_new_fields_has_the_documented_columns_only() -> None:
    clean, quarantined = _check_events(batch(("web/a.jsonl.gz", [json.dumps(event(1))])))
    assert clean.column_names == [*settings.EVENT_FIELDS, "_source_file", "_source_line"]
    assert clean["event_id"].to_pylist() == ["e1"]
    assert quarantined.num_rows == 0


def test_the_contract_must_name_fields_the_lines_are_read_for() -> None:
    with pytest.raises(ValueError, match="customer_id"):
        split_json_lines(
            batch(("web/a.jsonl.gz", ["{}"])),
            source_table="events",
            contract=settings.EVENT_CONTRACT,
            fields=["event_id", "event_type", "occurred_at", "anonymous_id", "product_id"],
        )
