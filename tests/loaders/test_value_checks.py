"""A value that does not fit its column's type exactly is quarantined, never rounded, and files and
API pages give the same verdict on the same value.

`EDGE_CASES` is the one table both paths must pass: the file path (`split_records`, which the
CSV, JSON-lines and Parquet readers use) and the API path (`contract_check`, the step every
`rest_api` resource runs on its pages, followed by dlt's own coercion to the hinted type).
"""

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dlt.common.data_types import coerce_value, py_type_to_sc_type

from loaders import load
from loaders.contracts import RecordContract
from loaders.quarantine import QUARANTINE_ID
from loaders.rest import contract_check
from loaders.validation import split_records
from tests.loaders.conftest import Warehouse

UTC = dt.UTC
NOT_SENT = object()
"""`EdgeCase.api_number` of a value an API can only send as a JSON string."""


class EdgeCase(NamedTuple):
    kind: str
    """`required` or the `RecordContract` field typing the column (`integers`, `dates`, ...)."""
    text: str
    """The value as a file holds it, and as an API sends it in a JSON string."""
    reason: str | None
    """Quarantine reason (of column `value`), or None when the value lands."""
    typed: Any = None
    """The value that lands, when it lands."""
    api_number: Any = NOT_SENT
    """The same value as a JSON number, when an API can send it as one."""


EDGE_CASES = [
    EdgeCase("required", "", "null_required_field:value"),
    EdgeCase("required", "   ", "null_required_field:value"),
    EdgeCase("required", "\t", "null_required_field:value"),
    EdgeCase("required", "x", None, "x"),
    EdgeCase("integers", "42", None, 42, api_number=42),
    EdgeCase("integers", "-7", None, -7, api_number=-7),
    EdgeCase("integers", "+7", None, 7),
    EdgeCase("integers", " 42 ", None, 42),
    EdgeCase("integers", "\t42\r\n", None, 42),
    EdgeCase("integers", "4 2", "unparsable_number:value"),
    EdgeCase("integers", "5.7", "unparsable_number:value", api_number=5.7),
    EdgeCase("integers", "5.0", "unparsable_number:value", api_number=5.0),
    EdgeCase("integers", "0x10", "unparsable_number:value"),
    EdgeCase("integers", "1_000", "unparsable_number:value"),
    EdgeCase("integers", "1e3", "unparsable_number:value"),
    EdgeCase("integers", "true", "unparsable_number:value", api_number=True),
    EdgeCase("integers", "9223372036854775807", None, 9223372036854775807),
    EdgeCase("integers", "9223372036854775808", "unparsable_number:value", api_number=2**63),
    EdgeCase("integers", "", None),
    EdgeCase("decimals", "9.99", None, Decimal("9.99"), api_number=9.99),
    EdgeCase("decimals", " 9.99\n", None, Decimal("9.99")),
    EdgeCase("decimals", "10", None, Decimal("10.00"), api_number=10),
    EdgeCase("decimals", "-0.5", None, Decimal("-0.50"), api_number=-0.5),
    EdgeCase("decimals", "9.999", "unparsable_number:value", api_number=9.999),
    EdgeCase("decimals", "1e3", "unparsable_number:value"),
    EdgeCase("decimals", "NaN", "unparsable_number:value", api_number=math.nan),
    EdgeCase("decimals", "Infinity", "unparsable_number:value", api_number=math.inf),
    EdgeCase("decimals", "1,50", "unparsable_number:value"),
    EdgeCase("decimals", "9999999999999999.99", None, Decimal("9999999999999999.99")),
    EdgeCase(
        "decimals",
        "1234567890123456789",
        "unparsable_number:value",
        api_number=1234567890123456789,
    ),
    EdgeCase("floats", "17.59", None, 17.59, api_number=17.59),
    EdgeCase("floats", "-3", None, -3.0, api_number=-3),
    EdgeCase("floats", "1.5e-05", None, 1.5e-05, api_number=1.5e-05),
    EdgeCase("floats", "NaN", "unparsable_number:value", api_number=math.nan),
    EdgeCase("floats", "inf", "unparsable_number:value", api_number=math.inf),
    EdgeCase("floats", "-Infinity", "unparsable_number:value", api_number=-math.inf),
    EdgeCase("floats", "1e400", "unparsable_number:value"),
    EdgeCase("floats", "0x1p3", "unparsable_number:value"),
    EdgeCase(
        "timestamps",
        "2025-01-01T10:00:00Z",
        None,
        dt.datetime(2025, 1, 1, 10, tzinfo=UTC),
    ),
    EdgeCase(
        "timestamps",
        "2025-01-01T10:00:00+02:00",
        None,
        dt.datetime(2025, 1, 1, 8, tzinfo=UTC),
    ),
    EdgeCase(
        "timestamps",
        "2025-01-01 10:00:00.25-0130",
        None,
        dt.datetime(2025, 1, 1, 11, 30, 0, 250000, tzinfo=UTC),
    ),
    EdgeCase("timestamps", "2025-01-01T10:00", None, dt.datetime(2025, 1, 1, 10, tzinfo=UTC)),
    EdgeCase(
        "timestamps", " 2025-01-01T10:00:00Z\t", None, dt.datetime(2025, 1, 1, 10, tzinfo=UTC)
    ),
    EdgeCase("timestamps", "20250101T000000Z", "unparsable_timestamp:value"),
    EdgeCase("timestamps", "2025-01-01", "unparsable_timestamp:value"),
    EdgeCase("timestamps", "2025-02-30T10:00:00Z", "unparsable_timestamp:value"),
    EdgeCase("timestamps", "2025-01-01T24:00:00Z", "unparsable_timestamp:value"),
    EdgeCase("timestamps", "2025-01-01T10:00:00.1234567Z", "unparsable_timestamp:value"),
    EdgeCase("timestamps", "1735725600", "unparsable_timestamp:value", api_number=1735725600),
    EdgeCase("dates", "2025-01-01", None, dt.date(2025, 1, 1)),
    EdgeCase("dates", " 2025-01-01 ", None, dt.date(2025, 1, 1)),
    EdgeCase("dates", " ", None),
    EdgeCase("dates", "20250101", "unparsable_date:value", api_number=20250101),
    EdgeCase("dates", "2025-01-01T00:00:00", "unparsable_date:value"),
    EdgeCase("dates", "2025-01-01 10:00:00", "unparsable_date:value"),
    EdgeCase("dates", "2025-13-01", "unparsable_date:value"),
    EdgeCase("dates", "01/02/2025", "unparsable_date:value"),
]

DLT_TYPES = {
    "required": "text",
    "integers": "bigint",
    "decimals": "decimal",
    "floats": "double",
    "timestamps": "timestamp",
    "dates": "date",
}


def _contract(kind: str) -> RecordContract:
    if kind == "required":
        return RecordContract(required=("value",))
    return RecordContract(**{kind: ("value",)})


def _case_id(case: EdgeCase) -> str:
    return f"{case.kind}:{case.text!r}"


def _file_verdict(case: EdgeCase) -> tuple[str | None, Any]:
    rows = pa.table({"value": [case.text], "_source_line": [1]})
    clean, quarantined = split_records(
        rows, source_table="edge_cases", contract=_contract(case.kind), location="cases.csv"
    )
    if quarantined.num_rows:
        return quarantined["reason"][0].as_py(), None
    return None, clean["value"][0].as_py()


def _api_verdict(case: EdgeCase, value: Any, as_arrow: bool) -> tuple[str | None, Any]:
    """What the API path does with a record holding `value`: its quarantine reason, or the
    value dlt loads into the column's hinted type (from a page of rows or an Arrow table)."""
    page = [{"id": 1, "value": value}, {"id": 2, "value": None if case.kind != "required" else "y"}]
    step = contract_check("edge_cases", _contract(case.kind), "id", as_arrow=as_arrow)
    outputs = list(step(page))
    landed = [
        record for item in outputs for record in _records(item) if QUARANTINE_ID not in record
    ]
    rejected = [record for item in outputs for record in _records(item) if QUARANTINE_ID in record]
    assert [record["id"] for record in landed] + [
        json.loads(record["raw_payload"])["id"] for record in rejected
    ] in ([1, 2], [2, 1]), "every record of the page comes out once"
    if rejected and json.loads(rejected[0]["raw_payload"])["id"] == 1:
        return rejected[0]["reason"], None
    (record,) = (record for record in landed if record["id"] == 1)
    if record["value"] is None:
        return None, None
    to_type = DLT_TYPES[case.kind]
    from_type = py_type_to_sc_type(type(record["value"]))
    typed = coerce_value(to_type, from_type, record["value"])
    if isinstance(typed, dt.datetime) and typed.tzinfo is None:
        # dlt writes a naive timestamp into a timezone-aware column as UTC
        typed = typed.replace(tzinfo=UTC)
    return None, typed


def _records(item: Any) -> list[dict[str, Any]]:
    data = getattr(item, "data", item)
    if isinstance(data, pa.Table):
        return data.to_pylist()
    return data if isinstance(data, list) else [data]


@pytest.mark.parametrize("case", EDGE_CASES, ids=_case_id)
def test_files_check_each_value_exactly(case: EdgeCase) -> None:
    assert _file_verdict(case) == (case.reason, case.typed)


PAGE_FORMS = pytest.mark.parametrize("as_arrow", [True, False], ids=["arrow", "rows"])


@PAGE_FORMS
@pytest.mark.parametrize("case", EDGE_CASES, ids=_case_id)
def test_api_pages_check_each_value_exactly(case: EdgeCase, as_arrow: bool) -> None:
    assert _api_verdict(case, case.text, as_arrow) == (case.reason, case.typed)


@PAGE_FORMS
@pytest.mark.parametrize(
    "case", [case for case in EDGE_CASES if case.api_number is not NOT_SENT], ids=_case_id
)
def test_api_json_numbers_get_the_verdict_of_their_text(case: EdgeCase, as_arrow: bool) -> None:
    assert _api_verdict(case, case.api_number, as_arrow) == (case.reason, case.typed)


def test_api_pages_land_as_one_arrow_table_unless_a_value_is_nested() -> None:
    contract = RecordContract(required=("id",), integers=("amount",))
    step = contract_check("pages", contract, "id", primary_key=["id"])
    flat = [{"id": "a", "amount": "7", "note": "x"}, {"id": "b", "amount": 8, "note": None}]
    (table,) = step(flat)
    assert isinstance(table, pa.Table)
    assert table.select(["id", "amount", "note"]).to_pylist() == [
        {"id": "a", "amount": 7, "note": "x"},
        {"id": "b", "amount": 8, "note": None},
    ]
    assert table.schema.field("amount").type == pa.int64()
    assert not table.schema.field("id").nullable
    assert table["_dlt_id"].null_count == 0 and len(set(table["_dlt_id"].to_pylist())) == 2
    # dlt flattens a nested object into `meta__k` columns when it reads rows: keep that shape
    nested = [{"id": "c", "amount": 1, "meta": {"k": 1}}]
    (rows,) = step(nested)
    assert rows == nested


def _logistics_folder(tmp_path: Path) -> Path:
    root = tmp_path / "sources" / "logistics"
    for folder in ("shipments", "tracking", "inventory"):
        (root / folder).mkdir(parents=True)
    return root


def _inventory(snapshot_date: pa.Array, on_hand: pa.Array) -> pa.Table:
    rows = len(on_hand)
    return pa.table(
        {
            "snapshot_date": snapshot_date,
            "warehouse_code": ["EU1"] * rows,
            "sku": [f"LKS-{n:06d}" for n in range(1, rows + 1)],
            "on_hand_qty": on_hand,
            "reserved_qty": pa.array([0] * rows, pa.int32()),
            "inbound_qty": pa.array([0] * rows, pa.int32()),
        }
    )


def test_parquet_drops_quarantine_values_their_column_type_cannot_hold(tmp_path: Path) -> None:
    inventory = _logistics_folder(tmp_path) / "inventory"
    day = dt.date(2025, 3, 1)
    # a float column where the 3PL means whole units, and a timestamp where it means a day
    pq.write_table(
        _inventory(pa.array([day] * 3, pa.date32()), pa.array([5.0, 2.7, 3.0], pa.float64())),
        inventory / "inventory_2025-03-01.parquet",
    )
    pq.write_table(
        _inventory(
            pa.array(
                [dt.datetime(2025, 3, 2, 10, 30), dt.datetime(2025, 3, 2)], pa.timestamp("us")
            ),
            pa.array([1, 2], pa.int32()),
        ),
        inventory / "inventory_2025-03-02.parquet",
    )

    warehouse = Warehouse(tmp_path, load(["logistics"], data_dir=tmp_path))

    assert warehouse.report.ok, warehouse.report.result("logistics").error
    assert warehouse.query(
        "select snapshot_date, sku, on_hand_qty from raw_logistics.inventory_snapshots order by sku"
    ) == [(day, "LKS-000001", 5), (day, "LKS-000003", 3)]
    assert warehouse.query(
        "select reason, source_location from raw_logistics.quarantined_records "
        "order by source_location"
    ) == [
        ("unparsable_number:on_hand_qty", "logistics/inventory/inventory_2025-03-01.parquet:2"),
        ("unparsable_date:snapshot_date", "logistics/inventory/inventory_2025-03-02.parquet:1"),
        ("unparsable_date:snapshot_date", "logistics/inventory/inventory_2025-03-02.parquet:2"),
    ]


def test_csv_numbers_are_never_rounded_or_read_as_hex(tmp_path: Path) -> None:
    shipments = _logistics_folder(tmp_path) / "shipments"
    header = (
        "shipment_id,order_number,warehouse_code,carrier_code,service_level,shipped_at,"
        "package_count,weight_kg,shipping_cost,currency_code,destination_country,"
        "destination_postcode"
    )
    values = [
        ("SHP-1", "1", "17.59", "13.87"),
        ("SHP-2", "0x10", "1.0", "1.00"),
        ("SHP-3", "1_000", "1.0", "1.00"),
        ("SHP-4", "1", "1.0", "9.999"),
        ("SHP-5", "1", "nan", "1.00"),
        ("SHP-6", "1", "inf", "1.00"),
        ("SHP-7", "2.5", "1.0", "1.00"),
    ]
    lines = [
        f"{key},LK-1,EU1,DPD,standard,2025-03-01T09:10:47Z,{count},{weight},{cost},EUR,NA,10115"
        for key, count, weight, cost in values
    ]
    (shipments / "shipments_2025-03-01.csv").write_text("\n".join([header, *lines]) + "\n")

    warehouse = Warehouse(tmp_path, load(["logistics"], data_dir=tmp_path))

    assert warehouse.report.ok, warehouse.report.result("logistics").error
    assert warehouse.query(
        "select shipment_id, package_count, weight_kg, shipping_cost, destination_country "
        "from raw_logistics.shipments"
    ) == [("SHP-1", 1, 17.59, Decimal("13.87"), "NA")]
    assert warehouse.query(
        "select reason, split_part(source_location, ':', 2)::int as line "
        "from raw_logistics.quarantined_records order by line"
    ) == [
        ("unparsable_number:package_count", 3),
        ("unparsable_number:package_count", 4),
        ("unparsable_number:shipping_cost", 5),
        ("unparsable_number:weight_kg", 6),
        ("unparsable_number:weight_kg", 7),
        ("unparsable_number:package_count", 8),
    ]
