"""dlt source for the 3PL's file drops: shipment and tracking CSVs and inventory Parquet."""

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import dlt
import duckdb
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
    BATCH_ROWS,
    CheckRows,
    FileRows,
    ReadTogether,
    located_rows,
    read_csv_text,
    read_new_files,
    require_folder,
)
from loaders.interrupts import stop_signal_received
from loaders.logistics import settings
from loaders.logistics.settings import FileTable
from loaders.quarantine import (
    QUARANTINE_TABLE,
    quarantine_table_resource,
    register_quarantine_table,
)
from loaders.registry import SourceContext
from loaders.validation import (
    BLANK_TEXT_PATTERN,
    SOURCE_FILE_COLUMN,
    SPACE_CHARACTERS,
    quote_identifier,
    split_records,
)

FILES_PER_PAGE = 100_000
"""Files the listing hands the reader at once (dlt's default is 100)."""


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


def _read_inventories(items: list[FileItemDict]) -> Generator[FileRows | None, None, None]:
    """What `_read_inventory` gives for each of `items`, in order, for the local files whose
    stored types fit the contract, read by DuckDB many files to a query; None for a file left
    to `_read_inventory` (not local, a footer that does not read, other types, a blank or
    missing required value, a query that fails).

    Reading file by file with pyarrow, numbering lines in Python, took three times as long as
    DuckDB's `read_parquet` over all the files. A file is read here only when its Arrow schema
    (from its footer, as `pq.read_table` gives it) holds nothing but the contract's date and
    integer types and text: DuckDB reads those to the same values Arrow does.
    """
    contract = settings.INVENTORY.contract
    connection: duckdb.DuckDBPyConnection | None = None
    run: list[_TypedFile] = []  # consecutive files of one schema, read by one query
    try:
        for item in [*items, None]:
            typed = _typed_file(item, contract) if item is not None else None
            if run and (typed is None or not typed.schema.equals(run[0].schema)):
                connection = connection or duckdb.connect()
                yield from _read_typed_files(connection, run, contract)
                run = []
            if typed is not None:
                run.append(typed)
                # a batch of `read_new_files` is cut at the same count
                if sum(file.rows for file in run) >= BATCH_ROWS:
                    connection = connection or duckdb.connect()
                    yield from _read_typed_files(connection, run, contract)
                    run = []
            elif item is not None:
                yield None
    finally:
        if connection is not None:
            connection.close()


@dataclass(frozen=True)
class _TypedFile:
    path: str
    schema: pa.Schema
    rows: int


# a column of these names would clash with what the reader adds or DuckDB's file columns
_ADDED_COLUMNS = frozenset({"_source_line", SOURCE_FILE_COLUMN, "file_row_number", "file_index"})


def _typed_file(item: FileItemDict, contract: RecordContract) -> _TypedFile | None:
    """The local path, Arrow schema and row count of a file `_read_typed_files` can read: its
    footer reads, it has the required columns, and each of its columns has the type
    `_typed_columns` keeps (dates as date32, integers of at most 64 bits, every other column
    text); else None."""
    if contract.timestamps or contract.decimals or contract.floats:
        return None
    if "file_content" in item or item.fsspec is None or "file" not in item.fsspec.protocol:
        return None
    path = item.local_file_path
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    # `_read_inventory` reads the file again and reports it by name
    except Exception:
        if stop_signal_received():
            raise
        return None
    names = set(schema.names)
    if len(names) < len(schema.names) or names & _ADDED_COLUMNS:
        return None
    if not names.issuperset((*contract.required, *contract.dates, *contract.integers)):
        return None
    for field in schema:
        if field.name in contract.dates:
            fits = pa.types.is_date32(field.type)
        elif field.name in contract.integers:
            fits = _is_bigint_safe(field.type)
        else:
            fits = pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        if not fits:
            return None
    return _TypedFile(path, schema, metadata.num_rows)


def _read_typed_files(
    connection: duckdb.DuckDBPyConnection, files: list[_TypedFile], contract: RecordContract
) -> Generator[FileRows | None, None, None]:
    """The clean `FileRows` of each of `files` (all of one schema), read by one query; None for
    a file with a blank or missing required value (`_read_inventory` checks it as text) and
    for every file when the query fails."""
    schema = files[0].schema
    columns = [
        f"cast({quote_identifier(name)} as bigint) as {quote_identifier(name)}"
        if name in contract.integers
        else quote_identifier(name)
        for name in schema.names
    ]
    try:
        rows = connection.sql(
            f"select {', '.join(columns)}, file_row_number + 1 as _source_line, file_index "
            "from read_parquet($paths, file_row_number = true)",
            params={"paths": [file.path for file in files]},
        ).to_arrow_table()
        offsets = _file_offsets(rows, [file.rows for file in files])
    except Exception:
        if stop_signal_received():
            raise
        offsets = None
    if offsets is None:
        yield from [None] * len(files)
        return
    key = settings.INVENTORY.primary_key
    typed_schema = pa.schema(
        [
            pa.field(name, _typed_type(name, field.type, contract), nullable=name not in key)
            for name, field in zip(schema.names, schema, strict=True)
        ]
        + [pa.field("_source_line", pa.int64())]
    )
    blank_files = _files_with_blank_required_values(rows, contract)
    rows = rows.drop_columns(["file_index"])
    for index, file in enumerate(files):
        if index in blank_files:
            yield None
        else:
            yield FileRows(clean=rows.slice(offsets[index], file.rows).cast(typed_schema))


def _typed_type(name: str, stored: pa.DataType, contract: RecordContract) -> pa.DataType:
    """The type `_typed_columns` gives a column stored as `stored`."""
    if name in contract.integers:
        return pa.int64()
    return stored if name in contract.dates else pa.string()


def _file_offsets(rows: pa.Table, counts: list[int]) -> list[int] | None:
    """Where each file's rows start in `rows` (with `file_index` and `_source_line`, the
    1-based row number in the file), given the files' row counts; None unless the rows are
    each file's rows in order, file after file."""
    offsets = [0]
    for count in counts:
        offsets.append(offsets[-1] + count)
    if rows.num_rows != offsets[-1]:
        return None
    if not rows.num_rows:
        return offsets
    # the position each row would have in that layout, which must be 0, 1, 2, ...
    starts = pa.array(offsets[:-1], pa.int64())
    position = pc.add(pc.take(starts, rows["file_index"]), pc.subtract(rows["_source_line"], 1))
    position = position.combine_chunks()
    if position[0].as_py() != 0:
        return None
    if not pc.all(pc.equal(pc.pairwise_diff(position), 1), min_count=0).as_py():
        return None
    return offsets


def _files_with_blank_required_values(rows: pa.Table, contract: RecordContract) -> set[int]:
    """The `file_index` of each file of `rows` with a blank required value
    (`_blank_required_values`), asked of all the files' rows at once."""
    blank = _blank_required_values(rows, contract)
    return set(rows["file_index"].filter(blank).unique().to_pylist())


def _has_blank_required_values(table: pa.Table, contract: RecordContract) -> bool:
    """Whether any row of `table` has a blank required value (`_blank_required_values`)."""
    return pc.any(_blank_required_values(table, contract)).as_py() or False


def _blank_required_values(table: pa.Table, contract: RecordContract) -> pa.Array:
    """Per row of `table`, whether a required column is null or text of only whitespace (what
    `loaders.validation` quarantines as `null_required_field`)."""
    blank = pa.repeat(pa.scalar(False), table.num_rows)
    for name in contract.required:
        column = table[name].combine_chunks()
        blank = pc.or_(blank, pc.is_null(column))
        if pa.types.is_string(column.type):
            # only empty text or text starting with a blank can be blank: the pattern is asked
            # of those alone (asked of every row it took a quarter of a second a year)
            maybe = pc.equal(pc.binary_length(column), 0)
            for space in SPACE_CHARACTERS:
                maybe = pc.fill_null(pc.or_(maybe, pc.starts_with(column, space)), False)
            pattern = pc.match_substring_regex(column.filter(maybe), BLANK_TEXT_PATTERN)
            blank = pc.or_(blank, pc.replace_with_mask(maybe, maybe, pattern))
    return blank


def _file_resource(
    bucket_url: str,
    file_table: FileTable,
    read_file: Callable[[bytes, str], FileRows],
    quarantine_disposition: TWriteDisposition,
    read_together: ReadTogether | None = None,
) -> DltResource:
    """The resource loading `file_table` from its sub-folder of `bucket_url`.

    Args:
        bucket_url: The 3PL drops' folder.
        file_table: The file kind: sub-folder, file glob, table, key and contract.
        read_file: Turns a file's bytes and location into its rows (`FileRows`), which are
            checked against `file_table`'s contract a batch of files at a time.
        quarantine_disposition: How its rejected rows load into `quarantined_records`.
        read_together: Reads many of the new files at once, leaving what it cannot read to
            `read_file` (`loaders.files.read_new_files`).

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
        yield from read_new_files(
            file_items, prefix, read_file, _checker(file_table), read_together
        )

    # one page for all the files of a load (the listing is a few hundred bytes a file): each
    # page is read apart, so its end would cut a batch short (`loaders.files.BATCH_ROWS`)
    listing = filesystem(
        bucket_url=folder, file_glob=file_table.file_glob, files_per_page=FILES_PER_PAGE
    ).with_name(f"{file_table.folder}_files")
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
        _file_resource(
            bucket_url, settings.INVENTORY, _read_inventory, quarantined, _read_inventories
        ),
        quarantine_table_resource(file_source=True, write_disposition=quarantined),
    ]


def from_context(context: SourceContext) -> DltSource:
    """The logistics source over `sources.logistics.bucket_url`, else `<sources>/logistics`."""
    return logistics(
        bucket_url=context.folder("logistics"),
        loaded_rows=context.loaded_rows if context.pipeline else None,
    )
