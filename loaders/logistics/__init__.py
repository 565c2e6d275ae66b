"""dlt source for the 3PL's file drops: shipment and tracking CSVs and inventory Parquet."""

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dlt.common.schema.typing import TWriteDisposition
from dlt.common.storages.fsspec_filesystem import FileItemDict
from dlt.extract import DltResource, DltSource
from dlt.sources.filesystem import filesystem

from loaders.contracts import SCHEMA_CONTRACT, RecordContract
from loaders.dispositions import LoadedRows, merge_after_first_load
from loaders.files import (
    CheckRows,
    FileRows,
    located_rows,
    read_csv_text,
    read_new_files,
    require_folder,
)
from loaders.logistics import settings
from loaders.logistics.settings import FileTable
from loaders.quarantine import (
    QUARANTINE_TABLE,
    quarantine_table_resource,
    register_quarantine_table,
)
from loaders.registry import SourceContext
from loaders.validation import BLANK_TEXT_PATTERN, split_records


def _map_renamed_cost_column(rows: pa.Table) -> pa.Table:
    """Map `freight_cost` back to `shipping_cost`, keeping the name the file used."""
    renames = settings.SHIPPING_COST_RENAMES
    used = next((name for name in rows.column_names if name in renames), "shipping_cost")
    rows = rows.rename_columns([renames.get(name, name) for name in rows.column_names])
    return rows.append_column(
        "shipping_cost_source_column", pa.array([used] * rows.num_rows, pa.string())
    )


def _csv_reader(file_table: FileTable) -> Callable[[bytes, str], FileRows]:
    def read(content: bytes, location: str) -> FileRows:
        rows, malformed = read_csv_text(
            content,
            delimiter=file_table.delimiter,
            encoding=file_table.encoding,
            required_columns=file_table.contract.required,
        )
        if file_table is settings.SHIPMENTS:
            rows = _map_renamed_cost_column(rows)
        malformed_rows = located_rows(
            file_table.table_name, "malformed_csv_row", location, malformed
        )
        return FileRows(unchecked=rows, quarantined=malformed_rows)

    return read


def _checker(file_table: FileTable) -> CheckRows:
    def check(rows: pa.Table) -> tuple[pa.Table, pa.Table]:
        return split_records(
            rows,
            source_table=file_table.table_name,
            contract=file_table.contract,
            location=None,
            primary_key=file_table.primary_key,
        )

    return check


def _typed_columns(snapshot: pa.Table, contract: RecordContract) -> pa.Table | None:
    """`snapshot` with the types the contract check gives, when the file's own types already
    hold every value unchanged (dates as dates, integers as integers of at most 64 bits); None
    when a typed column is missing or of another type, or the contract types other kinds."""
    if contract.timestamps or contract.decimals or contract.floats:
        return None
    typed: dict[str, pa.ChunkedArray] = {}
    kinds = ((contract.dates, pa.types.is_date32, pa.date32()),)
    kinds += ((contract.integers, _is_bigint_safe, pa.int64()),)
    for names, type_fits, arrow_type in kinds:
        for name in names:
            if name not in snapshot.column_names or not type_fits(snapshot[name].type):
                return None
            typed[name] = snapshot[name].cast(arrow_type)
    # every other column lands as text, as the text check lands it
    return pa.table(
        {name: typed.get(name, snapshot[name].cast(pa.string())) for name in snapshot.column_names}
    )


def _is_bigint_safe(arrow_type: pa.DataType) -> bool:
    return pa.types.is_signed_integer(arrow_type) or (
        pa.types.is_unsigned_integer(arrow_type) and arrow_type.bit_width < 64
    )


def _read_inventory(content: bytes, location: str) -> FileRows:
    """A snapshot file's rows: copied as typed when the file's types already fit the contract
    and its required columns hold a value in every row, else checked as text like a CSV."""
    snapshot = pq.read_table(pa.py_buffer(content))
    numbers = pa.array(range(1, snapshot.num_rows + 1), pa.int64())
    contract = settings.INVENTORY.contract
    typed = _typed_columns(snapshot, contract)
    if typed is not None and not _has_blank_required_values(typed, contract):
        # nothing to parse: a date or an integer column holds only what its type holds, so the
        # text check could not reject or change a value
        key = settings.INVENTORY.primary_key
        schema = pa.schema([f.with_nullable(f.name not in key) for f in typed.schema])
        return FileRows(clean=typed.cast(schema).append_column("_source_line", numbers))
    as_text = pa.table({name: snapshot[name].cast(pa.string()) for name in snapshot.column_names})
    return FileRows(unchecked=as_text.append_column("_source_line", numbers))


def _has_blank_required_values(table: pa.Table, contract: RecordContract) -> bool:
    """Whether a required column is null, or text of only whitespace, in any row (what
    `loaders.validation` quarantines as `null_required_field`)."""
    for name in contract.required:
        column = table[name]
        if column.null_count:
            return True
        if pa.types.is_string(column.type):
            blank = pc.match_substring_regex(column, BLANK_TEXT_PATTERN)
            if pc.any(blank).as_py():
                return True
    return False


def _file_resource(
    bucket_url: str,
    file_table: FileTable,
    read_file: Callable[[bytes, str], FileRows],
    quarantine_disposition: TWriteDisposition,
) -> DltResource:
    """The resource loading `file_table` from its sub-folder of `bucket_url`.

    Args:
        bucket_url: The 3PL drops' folder.
        file_table: The file kind: sub-folder, file glob, table, key and contract.
        read_file: Turns a file's bytes and location into its rows (`FileRows`), which are
            checked against `file_table`'s contract a batch of files at a time.
        quarantine_disposition: How its rejected rows load into `quarantined_records`.

    Returns:
        A file listing piped into a transformer named after the table, which yields, per batch
        of new or re-delivered files (`loaders.files.BATCH_ROWS`), their clean rows as one
        Arrow table (with `_source_file` and `_source_line`), their quarantined rows and the
        files' delivery records.
    """
    folder = f"{bucket_url.rstrip('/')}/{file_table.folder}"
    require_folder(folder, f"logistics {file_table.folder}")
    prefix = f"{settings.LOCATION_PREFIX}{PurePosixPath(file_table.folder)}/"

    def read_files(file_items: list[FileItemDict]) -> Any:
        yield from read_new_files(file_items, prefix, read_file, _checker(file_table))

    listing = filesystem(bucket_url=folder, file_glob=file_table.file_glob).with_name(
        f"{file_table.folder}_files"
    )
    # appended and replaced by file (loaders.files), not merged on the business key
    reader = dlt.transformer(read_files, name=file_table.table_name, write_disposition="append")
    resource = listing | reader
    register_quarantine_table(resource, quarantine_disposition)
    return resource


@dlt.source(name="logistics", schema_contract=SCHEMA_CONTRACT)
def logistics(
    bucket_url: str = dlt.config.value, loaded_rows: LoadedRows | None = None
) -> list[DltResource]:
    """Shipments, tracking events and inventory snapshots from the 3PL folder `bucket_url`.

    Args:
        bucket_url: The folder or fsspec URL of the 3PL drops (`sources.logistics.bucket_url`,
            by default `<data dir>/sources/logistics`), with one sub-folder per file kind; a
            missing folder stops the load with a clear message.
        loaded_rows: The rows a table holds in the destination now (None before its first
            load): `quarantined_records` is appended while it holds none (`loaders.dispositions`).

    Returns:
        The resources `shipments`, `tracking_events` and `inventory_snapshots` (each appended
        and replaced by file when a file is re-delivered; see `_file_resource`) and
        `quarantined_records`.
    """
    quarantined = merge_after_first_load(QUARANTINE_TABLE, loaded_rows)
    return [
        _file_resource(
            bucket_url, settings.SHIPMENTS, _csv_reader(settings.SHIPMENTS), quarantined
        ),
        _file_resource(bucket_url, settings.TRACKING, _csv_reader(settings.TRACKING), quarantined),
        _file_resource(bucket_url, settings.INVENTORY, _read_inventory, quarantined),
        quarantine_table_resource(file_source=True, write_disposition=quarantined),
    ]


def from_context(context: SourceContext) -> DltSource:
    """The logistics source over `sources.logistics.bucket_url`, else `<sources>/logistics`."""
    return logistics(
        bucket_url=context.folder("logistics"),
        loaded_rows=context.loaded_rows if context.pipeline else None,
    )
