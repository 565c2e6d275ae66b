"""The `quarantined_records` table every source writes its rejected records to.

A record that breaks a source's contract (a required field is null, a date or number does not
parse, a CSV row has the wrong number of fields, a JSON line is not JSON) is kept here instead
of in the clean table: which table it was meant for, why it was rejected, where it came from
(file and line, or endpoint and page) and the raw record as text. `_dlt_load_id` says which
load saw it.

The table merges on `quarantine_id`, a hash of (source table, reason, record key), so that
reading the same bad record again (an API lookback window) does not count it twice; while the
destination holds none of its rows it is appended instead (`loaders.dispositions`). The rows of
a file source also carry `_source_file`: a re-delivered file replaces every row its earlier
delivery quarantined (`loaders.files.replace_redelivered_files`), wherever the bad rows moved.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.schema.typing import TWriteDisposition
from dlt.extract import DltResource
from dlt.extract.items import DataItemWithMeta

from loaders.stats import record_quarantined

QUARANTINE_TABLE = "quarantined_records"
QUARANTINE_ID = "quarantine_id"

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("quarantine_id", pa.string(), nullable=False),
        pa.field("source_table", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("source_location", pa.string(), nullable=False),
        pa.field("raw_payload", pa.string()),
    ]
)


QUARANTINE_COLUMNS: Any = {
    "quarantine_id": {"data_type": "text", "nullable": False},
    "source_table": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    "source_location": {"data_type": "text", "nullable": False},
    "raw_payload": {"data_type": "text", "nullable": True},
    "_dlt_load_id": {"data_type": "text", "nullable": False},
    "_dlt_id": {"data_type": "text", "nullable": False},
}


SOURCE_FILE_COLUMN: Any = {"_source_file": {"data_type": "text", "nullable": True}}


def quarantine_table_resource(
    *, file_source: bool = False, write_disposition: TWriteDisposition = "merge"
) -> DltResource:
    """A resource that creates an empty `quarantined_records` table in every raw dataset.

    Staging models select from the table whether or not a load ever rejected a record. The
    table of a `file_source` has the `_source_file` column its rows are replaced by.
    `write_disposition` must be the one the source's resources register the table with
    (`register_quarantine_table`).
    """

    @dlt.resource(
        name=QUARANTINE_TABLE,
        primary_key="quarantine_id",
        write_disposition=write_disposition,
        columns={**QUARANTINE_COLUMNS, **(SOURCE_FILE_COLUMN if file_source else {})},
    )
    def quarantined_records() -> Any:
        yield dlt.mark.materialize_table_schema()

    return quarantined_records()


def quarantine_id(source_table: str, reason: str, record_key: str) -> str:
    """Stable key of one rejected record: the same record rejected again keeps its id."""
    return hashlib.md5(f"{source_table}|{reason}|{record_key}".encode()).hexdigest()


def _quarantine_hints(write_disposition: TWriteDisposition | None = None) -> Any:
    return dlt.mark.make_hints(
        table_name=QUARANTINE_TABLE,
        primary_key="quarantine_id",
        write_disposition=write_disposition,
    )


def _mark(items: pa.Table | list[dict[str, Any]]) -> DataItemWithMeta:
    # no write disposition: the rows keep the one their resource registered the table with
    return dlt.mark.with_hints(items, _quarantine_hints(), create_table_variant=True)


def register_quarantine_table(
    resource: DltResource, write_disposition: TWriteDisposition = "merge"
) -> None:
    """Declare `quarantined_records` hints on `resource` before it gets its own column hints.

    Every resource yielding quarantined rows must: dlt builds a table variant from a copy of
    the resource's hints at that moment, so declared first, the quarantine table does not
    inherit the resource's columns (`amount`, ...), and the rows keep `write_disposition`
    (`merge`, or `append` on the table's first load: `loaders.dispositions`).
    """
    resource.apply_hints(create_table_variant=True, **_quarantine_hints(write_disposition))


def quarantine_table(table: pa.Table, source_file: str | None = None) -> DataItemWithMeta:
    """Send an Arrow table shaped like `QUARANTINE_SCHEMA` to the quarantine and count it.

    The rows get a `_dlt_id` (their `quarantine_id`, unique in the table) like the JSON rows of
    the API sources get from dlt, so every quarantine table has the same columns whichever kind
    of row created it; rows read from a file get its location as `_source_file` (rows of
    several files keep the `_source_file` column they come with).
    """
    files = table["_source_file"] if "_source_file" in table.column_names else None
    table = table.select(QUARANTINE_SCHEMA.names).cast(QUARANTINE_SCHEMA)
    if table.num_rows:
        counts = table.group_by(["source_table", "reason"]).aggregate([([], "count_all")])
        for row in counts.to_pylist():
            record_quarantined(row["source_table"], row["reason"], row["count_all"])
    row_ids = pa.field("_dlt_id", pa.string(), nullable=False)
    table = table.append_column(row_ids, table["quarantine_id"])
    if source_file is not None:
        files = pa.array([source_file] * table.num_rows, pa.string())
    if files is not None:
        table = table.append_column("_source_file", files.cast(pa.string()))
    return _mark(table)


def quarantine_table_as_rows(table: pa.Table) -> DataItemWithMeta:
    """Like `quarantine_table`, but sent as JSON rows: for resources with an incremental step.

    dlt's incremental step rejects an Arrow table without the cursor column, while it passes
    JSON rows without one (`on_cursor_value_missing="include"`); rejected rows are few.
    """
    rows = table.select(QUARANTINE_SCHEMA.names).cast(QUARANTINE_SCHEMA).to_pylist()
    for row in rows:
        record_quarantined(row["source_table"], row["reason"], 1)
    return _mark(rows)


def quarantine_records(
    source_table: str,
    rejected: list[tuple[str, str, Mapping[str, Any], str]],
) -> DataItemWithMeta:
    """Quarantine API records: `rejected` holds (reason, record key, record, where it was read)
    tuples.

    They go out as JSON rows rather than Arrow because they travel through the resource's
    incremental step, which passes rows without a cursor (`on_cursor_value_missing="include"`)
    but rejects Arrow tables without the cursor column.
    """
    rows = [
        {
            "quarantine_id": quarantine_id(source_table, reason, key),
            "source_table": source_table,
            "reason": reason,
            "source_location": source_location,
            "raw_payload": json.dumps(record, sort_keys=True, default=str),
        }
        for reason, key, record, source_location in rejected
    ]
    for row in rows:
        record_quarantined(source_table, row["reason"], 1)
    return _mark(rows)
