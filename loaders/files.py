"""Shared reading of file drops: which files are new, and text-safe CSV / JSON-lines readers.

Which files to read: dlt's `filesystem` resource lists the folder, and each transformer keeps, in
its resource state, the modification time and size of every file it has read completely. A file
is read when it is new or its modification time or size changed (a re-delivered file), so a
re-run reads nothing. A file that fails to read is not recorded, so the next run tries it again,
even when newer files were read after it (a single "highest modification time" cursor would skip
it for ever). Each file is read whole before anything is yielded, so a file lands completely or
not at all.

What a file delivered is keyed by the file: its clean rows carry `_source_file`, its quarantined
rows too, and every read of a file appends one row to `file_deliveries` in the same load. After
the load, `replace_redelivered_files` deletes what earlier deliveries of a re-delivered file
landed (once, in the run that loaded the new delivery), so the raw tables hold each file's
latest content only: a row the 3PL removed
disappears, a bad row that moved to another line is quarantined once. The clean tables are
appended, not merged on their business key: the same shipment in two files is two raw rows (the
staging models keep one), and dropping it from one file leaves the other file's row.
"""

import codecs
import csv
from collections.abc import Callable, Collection, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from dlt.common.storages.fsspec_filesystem import FileItemDict
from dlt.extract.items import DataItemWithMeta

from loaders.errors import LoaderError
from loaders.interrupts import stop_signal_received
from loaders.quarantine import QUARANTINE_SCHEMA, quarantine_id, quarantine_table
from loaders.registry import lands_files
from loaders.stats import record_file_error, record_file_read
from loaders.validation import SOURCE_FILE_COLUMN

DELIVERIES_TABLE = "file_deliveries"

_DELIVERY_COLUMNS: Any = {
    "source_file": {"data_type": "text", "nullable": False},
    "modified_at": {"data_type": "timestamp", "nullable": False},
    "size_in_bytes": {"data_type": "bigint", "nullable": True},
}

# JSON lines are read as one text column: this separator never occurs unescaped in valid JSON.
_LINE_SEPARATOR = "\x1e"

MAX_LINE_BYTES = 1 << 20
"""Longest JSON line read (1 MiB; a web event is about 500 bytes). A longer line is quarantined
as `line_too_long` with its first `LONG_LINE_PAYLOAD_CHARS` characters, and the file loads."""
LONG_LINE_PAYLOAD_CHARS = 4096


class FileShapeError(LoaderError):
    """A file that cannot be read as its source declares it; the whole file is refused."""


def require_folder(bucket_url: str, what: str) -> None:
    """Fail with a clear message when a local drop folder does not exist."""
    if "://" in bucket_url and not bucket_url.startswith("file://"):
        return
    folder = Path(bucket_url.removeprefix("file://"))
    if not folder.is_dir():
        raise LoaderError(
            f"{what} folder {folder} does not exist: run `warehouse simulate` first or point "
            "the source's bucket_url at the folder the files are delivered to"
        )


@dataclass(frozen=True)
class FileRows:
    """What reading one file gave, before the contract check.

    `unchecked` rows (with `_source_line`) are checked together with the other files of their
    batch; `clean` rows were checked while reading (a typed drop); `quarantined` rows
    (`QUARANTINE_SCHEMA`) were rejected while reading (a malformed line).
    """

    unchecked: pa.Table | None = None
    clean: pa.Table | None = None
    quarantined: pa.Table | None = None


CheckRows = Callable[[pa.Table], tuple[pa.Table, pa.Table]]
"""Checks the unchecked rows of a batch of files (with `_source_file` and `_source_line`):
(clean rows, quarantined rows with their `_source_file`)."""

ReadTogether = Callable[[list[FileItemDict]], Generator[FileRows | None, None, None]]
"""Reads several files at once, a faster path than one `read_file` call per file: yields, for
each file in the order given, its rows, or None for a file it leaves to `read_file` (one it
cannot take or could not read; `read_file` then reads it, or reports it by name)."""

BATCH_ROWS = 250_000
"""Rows of several files checked in one query and handed to dlt as Arrow tables (of whole
`ROW_GROUP_ROWS`, the rest joining the next batch's). A check costs a few milliseconds and each
item handed to dlt about as much whatever its size, so a day's small CSV checked alone spent
most of its time on that; a batch is cut after the file that reaches this many rows, which
bounds its memory (a day of web events at scale 1 is 50,000)."""


ROW_GROUP_ROWS = 122_880
"""Rows of a DuckDB row group. Clean rows are handed to dlt in tables of whole row groups (the
rest of a batch waits for the next one): dlt writes each table as one Parquet row group, and
DuckDB inserts each Parquet row group as full row groups and one partly filled one, which the
checkpoint at the end of the load then merges by rewriting the rows after it (0.9 s of 2.7 s
for a year of inventory snapshots at scale 1)."""


@dataclass(frozen=True)
class _ReadFile:
    relative_path: str
    version: str
    location: str
    item: FileItemDict
    rows: FileRows


def read_new_files(
    items: Iterable[FileItemDict],
    location_prefix: str,
    read_file: Callable[[bytes, str], FileRows],
    check_rows: CheckRows,
    read_together: ReadTogether | None = None,
) -> Iterator[Any]:
    """Yield the clean rows, quarantined rows and delivery records of every new or changed file.

    `read_file(content, location)` reads one file; `check_rows` checks the unchecked rows of a
    batch of files at once (`BATCH_ROWS`). `location` is `location_prefix` + the file's path
    relative to the listed folder; it names the file in `_source_file`, quarantined records,
    error messages and the load report. A file that fails to read is reported and skipped; a
    batch whose check fails is checked again file by file, so that only the failing file is
    left out. `read_together`, when given, reads the new files first; what it leaves, or
    everything after it failed, `read_file` reads.
    """
    read_files: dict[str, str] = dlt.current.resource_state().setdefault("files", {})
    clean_rows = _CleanRows()
    new_files = []
    for item in sorted(items, key=lambda file_item: file_item["relative_path"]):
        version = f"{item['modification_date'].isoformat()}|{item.get('size_in_bytes')}"
        if read_files.get(item["relative_path"]) != version:
            new_files.append((item, version))
    together = read_together([item for item, _ in new_files]) if read_together else None
    batch: list[_ReadFile] = []
    batch_rows = 0
    for item, version in new_files:
        relative_path = item["relative_path"]
        location = f"{location_prefix}{relative_path}"
        rows = None
        if together is not None:
            try:
                rows = next(together)
            except Exception:
                if stop_signal_received():
                    raise
                # the files from here on are read one by one, which names a failing one
                together = None
        try:
            if rows is None:
                rows = read_file(item.read_bytes(), location)
        # any failure to read one file (corrupt gzip, truncated Parquet, I/O error) is reported
        # with its name while the other files of the load still land
        except Exception as error:
            # Ctrl-C or SIGTERM inside a reader (DuckDB's "Query interrupted") stops the load
            if stop_signal_received():
                raise
            record_file_error(f"cannot read {location}: {_one_line(error)}")
            continue
        batch.append(_ReadFile(relative_path, version, location, item, rows))
        batch_rows += sum(t.num_rows for t in (rows.unchecked, rows.clean) if t is not None)
        if batch_rows >= BATCH_ROWS:
            yield from _land_batch(batch, check_rows, read_files, clean_rows)
            batch, batch_rows = [], 0
    if together is not None:
        together.close()
    yield from _land_batch(batch, check_rows, read_files, clean_rows)
    yield from clean_rows.rest()


class _CleanRows:
    """Clean rows on their way to dlt, in tables of whole `ROW_GROUP_ROWS` but the last."""

    def __init__(self) -> None:
        self._held: pa.Table | None = None

    def add(self, tables: list[pa.Table]) -> Iterator[pa.Table]:
        """Yield the rows held and `tables` in whole row groups; hold the rest."""
        if self._held is not None:
            tables = _concatenated([self._held, *tables])
            self._held = None
        # tables of other columns (or none) go as they are; an empty one still gives dlt its
        # columns
        if len(tables) != 1 or not tables[0].num_rows:
            yield from tables
            return
        (table,) = tables
        whole = table.num_rows - table.num_rows % ROW_GROUP_ROWS
        if whole:
            yield table.slice(0, whole)
        if whole < table.num_rows:
            self._held = table.slice(whole)

    def rest(self) -> Iterator[pa.Table]:
        """Yield the rows held."""
        if self._held is not None:
            yield self._held
            self._held = None


def _land_batch(
    batch: list[_ReadFile],
    check_rows: CheckRows,
    read_files: dict[str, str],
    clean_rows: _CleanRows,
) -> Iterator[Any]:
    """Check a batch's rows, yield them (through `clean_rows`) with the files' delivery
    records, record the files."""
    if not batch:
        return
    try:
        clean, quarantined = _check_files(batch, check_rows)
        landed = batch
    except Exception:
        if stop_signal_received():
            raise
        clean, quarantined, landed = [], [], []
        for read in batch:
            try:
                file_clean, file_quarantined = _check_files([read], check_rows)
            except Exception as error:
                if stop_signal_received():
                    raise
                record_file_error(f"cannot check {read.location}: {_one_line(error)}")
                continue
            clean += file_clean
            quarantined += file_quarantined
            landed.append(read)
    yield from clean_rows.add(_concatenated(clean))
    for rejected in _concatenated(quarantined):
        yield quarantine_table(rejected)
    if landed:
        yield _deliveries(landed)
    for read in landed:
        read_files[read.relative_path] = read.version
        record_file_read(read.location)


def _with_file(table: pa.Table, location: str) -> pa.Table:
    # built in Arrow: a Python list of the name per row took a quarter of a second for a year
    # of inventory files
    files = pa.repeat(pa.scalar(location, pa.string()), table.num_rows)
    return table.append_column(SOURCE_FILE_COLUMN, files)


def _check_files(
    files: list[_ReadFile], check_rows: CheckRows
) -> tuple[list[pa.Table], list[pa.Table]]:
    """(clean tables, quarantined tables) of `files`, their unchecked rows checked at once."""
    clean = [_with_file(f.rows.clean, f.location) for f in files if f.rows.clean is not None]
    quarantined = [
        _with_file(f.rows.quarantined, f.location)
        for f in files
        if f.rows.quarantined is not None and f.rows.quarantined.num_rows
    ]
    unchecked = [
        _with_file(f.rows.unchecked, f.location) for f in files if f.rows.unchecked is not None
    ]
    if unchecked:
        checked, rejected = check_rows(_concatenated(unchecked)[0])
        clean.append(checked)
        quarantined.append(rejected)
    return clean, quarantined


def _concatenated(tables: list[pa.Table]) -> list[pa.Table]:
    """`tables` as one table (a file's new column is null in the others' rows), or none.

    Tables whose same-named columns differ in type cannot be one: they stay apart, and dlt's
    schema contract decides on each.
    """
    tables = [table for table in tables if table.num_rows] or tables[:1]
    if len(tables) <= 1:
        return tables
    try:
        return [pa.concat_tables(tables, promote_options="default")]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return tables


def _deliveries(files: list[_ReadFile]) -> DataItemWithMeta:
    """The `file_deliveries` rows of one read of each of `files`; they travel in its load."""
    rows = [
        {
            "source_file": read.location,
            "modified_at": read.item["modification_date"],
            "size_in_bytes": read.item.get("size_in_bytes"),
        }
        for read in files
    ]
    hints = dlt.mark.make_hints(
        table_name=DELIVERIES_TABLE, write_disposition="append", columns=_DELIVERY_COLUMNS
    )
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


def replace_redelivered_files(pipeline: dlt.Pipeline, load_ids: Collection[str]) -> None:
    """Delete the rows earlier deliveries of a file re-delivered in `load_ids` landed.

    Runs after each load of a file source with the loads of that run and those no run logged
    yet (a killed run's). The deliveries and the rows land in the same dlt load, so the set of
    rows to delete is read from the destination itself: a run killed before this step leaves
    old rows that the next run deletes, since it names the killed run's loads. A file
    re-delivered in an earlier, logged run was replaced then, so a load without re-deliveries
    deletes nothing and scans no table. dlt's own `merge_key` (delete-insert on `_source_file`)
    was not used: a re-delivered file with no clean rows (or no bad rows) sends nothing to
    that table, so the merge would delete nothing there.
    """
    schema = pipeline.default_schema
    if not load_ids or DELIVERIES_TABLE not in schema.data_table_names(seen_data_only=True):
        return
    tables = [
        name
        for name in schema.data_table_names(seen_data_only=True)
        if SOURCE_FILE_COLUMN in schema.get_table_columns(name)
    ]
    with pipeline.sql_client() as client:
        deliveries = client.make_qualified_table_name(DELIVERIES_TABLE)
        loads = client.make_qualified_table_name("_dlt_loads")
        # load ids are dlt's own timestamps (digits and a dot): safe as literals
        these_loads = ", ".join(f"'{load_id}'" for load_id in load_ids if _is_load_id(load_id))
        if not these_loads:
            return
        # dlt's load ids are timestamps of equal length, so they sort as text
        latest_deliveries = f"""
            select source_file, max(_dlt_load_id) as load_id
            from {deliveries}
            where _dlt_load_id in (select load_id from {loads} where status = 0)
                and source_file in (
                    select source_file from {deliveries} where _dlt_load_id in ({these_loads})
                )
            group by source_file
            having count(*) > 1
        """
        with client.execute_query(f"select count(*) from ({latest_deliveries}) as files") as cur:
            if not cur.fetchone()[0]:
                return
        if lands_files(pipeline):
            latest = {
                source_file: load_id
                for source_file, load_id in client.execute_sql(latest_deliveries) or []
            }
            _drop_replaced_rows_in_lake(pipeline, tables, latest)
            return
        with client.begin_transaction():
            for name in tables:
                table = client.make_qualified_table_name(name)
                client.execute_sql(
                    f"""
                    delete from {table}
                    where exists (
                        select 1 from ({latest_deliveries}) as latest
                        where latest.source_file = {table}.{SOURCE_FILE_COLUMN}
                            and latest.load_id > {table}._dlt_load_id
                    )
                    """
                )


def _drop_replaced_rows_in_lake(
    pipeline: dlt.Pipeline, tables: list[str], latest: dict[str, str]
) -> None:
    """The lake's version of the delete above: rewrite each Parquet file holding rows that an
    earlier delivery of a file in `latest` (source file -> its latest load id) landed.

    Parquet files cannot delete rows in place. A file of dlt's lake layout holds the rows of
    one load (`<load id>.<file id>.parquet`), so only files of loads before the latest
    delivery are read. The new file replaces the old by a rename, and the step is idempotent:
    a run killed in between leaves rows that the next run, naming the same loads, drops.
    """
    import pyarrow.parquet as pq

    newest = max(latest.values())
    with pipeline.destination_client() as client:
        lake: Any = client
        for name in tables:
            for path in lake.list_table_files(name):
                file_name = path.rsplit("/", 1)[-1]
                load_id = ".".join(file_name.split(".")[:2])
                if not file_name.endswith(".parquet") or load_id >= newest:
                    continue
                with lake.fs_client.open(path, "rb") as handle:
                    rows = pq.read_table(handle)
                keep = [
                    not (source_file in latest and latest[source_file] > row_load)
                    for source_file, row_load in zip(
                        rows.column(SOURCE_FILE_COLUMN).to_pylist(),
                        rows.column("_dlt_load_id").to_pylist(),
                        strict=True,
                    )
                ]
                if all(keep):
                    continue
                partial = f"{path}.partial"
                with lake.fs_client.open(partial, "wb") as handle:
                    pq.write_table(rows.filter(pa.array(keep)), handle)
                lake.fs_client.mv(partial, path)


def _is_load_id(load_id: str) -> bool:
    return bool(load_id) and all(character.isdigit() or character == "." for character in load_id)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    # our own errors are written for the user; a library's needs its type to make sense
    return text if isinstance(error, LoaderError) else f"{type(error).__name__}: {text}"


def located_rows(
    source_table: str, reason: str, location: str, lines: list[tuple[int, str]]
) -> pa.Table:
    """Quarantine rows (`QUARANTINE_SCHEMA`) for whole lines of a file: (line number, text)."""
    rows = [
        {
            "quarantine_id": quarantine_id(source_table, reason, f"{location}:{line}"),
            "source_table": source_table,
            "reason": reason,
            "source_location": f"{location}:{line}",
            "raw_payload": text,
        }
        for line, text in lines
    ]
    return pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)


def as_utf8(content: bytes, encoding: str) -> bytes:
    """The text of a file declared in `encoding`, as UTF-8 bytes.

    A system that says it writes Windows-1252 sometimes writes UTF-8 (an export re-run on
    another machine): read as Windows-1252, `München` becomes `MÃ¼nchen`. Text with accents in
    a single-byte encoding is almost never valid UTF-8, so a file (or, in a mixed file, a line)
    that is valid UTF-8 is read as UTF-8 and the rest in the declared encoding.
    """
    try:
        content.decode("utf-8")
        return content
    except UnicodeDecodeError:
        if codecs.lookup(encoding).name == "utf-8":
            # invalid UTF-8 in a UTF-8 file: the reader reports it and the file is refused
            return content
    return b"".join(_line_as_utf8(line, encoding) for line in content.splitlines(keepends=True))


def _line_as_utf8(line: bytes, encoding: str) -> bytes:
    try:
        line.decode("utf-8")
        return line
    except UnicodeDecodeError:
        return line.decode(encoding).encode("utf-8")


def _numbered(table: pa.Table, first_line: int, rejected_lines: set[int]) -> pa.Table:
    """Append `_source_line`: the file line of each row, skipping the rejected lines."""
    # the rows are the lines from `first_line` on, less the rejected ones among them; built in
    # Arrow (a Python loop over a year of web lines took 9 s)
    last_line = first_line + table.num_rows + len(rejected_lines)
    numbers = pa.array(range(first_line, last_line), pa.int64())
    if rejected_lines:
        rejected = pa.array(sorted(rejected_lines), pa.int64())
        numbers = numbers.filter(pc.invert(pc.is_in(numbers, value_set=rejected)))
    return table.append_column("_source_line", numbers[: table.num_rows])


def read_csv_text(
    content: bytes, *, delimiter: str, encoding: str, required_columns: Collection[str] = ()
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Read a CSV with a header as text columns; return (rows, [(line, raw text)] malformed).

    Malformed rows (wrong number of fields) are returned, not dropped, with their line number.
    Text is decoded as `as_utf8` says. A header without every one of `required_columns` (a
    wrong delimiter reads the whole header as one column) raises `FileShapeError`: the file is
    refused before any of its columns can reach the table's schema.
    """
    content = as_utf8(content, encoding)
    header_end = content.find(b"\n")
    header_line = content[: header_end if header_end >= 0 else len(content)].decode("utf-8-sig")
    header_line = header_line.strip("\r\n")
    names = next(csv.reader([header_line], delimiter=delimiter), [])
    missing = sorted(set(required_columns) - set(names))
    if missing:
        raise FileShapeError(
            f"its header {header_line!r}, split at {delimiter!r}, lacks the columns "
            f"{', '.join(missing)}: check the file's delimiter and columns"
        )
    rejected: list[tuple[int, str]] = []

    def keep_malformed(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.text))
        return "skip"

    table = pa_csv.read_csv(
        pa.py_buffer(content),
        # one block for the whole file: a row longer than a block is "straddling" otherwise
        read_options=pa_csv.ReadOptions(use_threads=False, block_size=_block_size(content)),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter, invalid_row_handler=keep_malformed, ignore_empty_lines=False
        ),
        convert_options=pa_csv.ConvertOptions(
            # only an empty field is null: Arrow's default also nulls 'NA' (Namibia), 'nan', 'NULL'
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    # an empty line is no record: keep it out of the quarantine but count it for line numbers
    malformed = [(number, text) for number, text in rejected if text.strip()]
    return _numbered(table, 2, {number for number, _ in rejected}), malformed


def _block_size(content: bytes) -> int:
    # pyarrow's block size is a 32-bit int
    return min(len(content) + 1, 2**31 - 1)


def _split_lines(content: bytes) -> pa.Table | None:
    """The (`line`, `_source_line`) table of UTF-8 text whose lines all end at LF, as
    `_read_lines_as_csv` reads it; None for other text (CRs, the CSV separator, a byte order
    mark, invalid UTF-8, no text or 2 GiB and more), which that reader handles and reports as
    it always did.

    Splitting in Arrow takes a fifth of the CSV reader's time on a day of web events.
    """
    if (
        not content
        or len(content) >= 2**31 - 1
        or content.startswith(codecs.BOM_UTF8)  # the CSV reader drops it
        or b"\r" in content
        or _LINE_SEPARATOR.encode() in content
    ):
        return None
    offsets = pa.array([0, len(content)], pa.int32()).buffers()[1]
    text = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(content)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return None
    lines = pc.list_flatten(pc.split_pattern(text, "\n"))
    if content.endswith(b"\n"):
        lines = lines[:-1]  # the end of the last line, not an empty line after it
    numbers = pa.array(range(1, len(lines) + 1), pa.int64())
    return pa.table({"line": lines, "_source_line": numbers})


def _read_lines_as_csv(content: bytes) -> pa.Table:
    """The (`line`, `_source_line`) table of any text: lines end at CR, LF or CRLF."""
    rejected: list[tuple[int, str]] = []

    def keep_whole_line(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.text))
        return "skip"

    # Arrow's CSV reader splits lines faster than Python; one column, no quoting
    table = pa_csv.read_csv(
        pa.py_buffer(content),
        read_options=pa_csv.ReadOptions(
            column_names=["line"], use_threads=False, block_size=_block_size(content)
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=_LINE_SEPARATOR,
            quote_char=False,
            double_quote=False,
            escape_char=False,
            ignore_empty_lines=False,
            invalid_row_handler=keep_whole_line,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={"line": pa.string()}, strings_can_be_null=False
        ),
    )
    numbered = _numbered(table, 1, {number for number, _ in rejected})
    if rejected:
        # a line holding the separator byte is not valid JSON: keep it so it is quarantined
        extra = pa.table(
            {
                "line": pa.array([text for _, text in rejected], pa.string()),
                "_source_line": pa.array([number for number, _ in rejected], pa.int64()),
            }
        )
        numbered = pa.concat_tables([numbered, extra]).sort_by("_source_line")
    return numbered


def read_text_lines(content: bytes, source_table: str, location: str) -> tuple[pa.Table, pa.Table]:
    """Split text into lines: (a (`line`, `_source_line`) table, quarantine rows).

    Every line is kept with its 1-based number, in line order, except lines over
    `MAX_LINE_BYTES`, which are returned as `line_too_long` quarantine rows and the rest of the
    file loads.
    """
    numbered = _split_lines(content)
    if numbered is None:
        numbered = _read_lines_as_csv(content)
    too_long = pc.greater(pc.binary_length(numbered["line"]), MAX_LINE_BYTES)
    long_lines = numbered.filter(too_long).to_pylist()
    if long_lines:
        numbered = numbered.filter(pc.invert(too_long))
    payloads = [
        (
            row["_source_line"],
            row["line"][:LONG_LINE_PAYLOAD_CHARS]
            + f" [cut: the line has {len(row['line'].encode())} bytes]",
        )
        for row in long_lines
    ]
    return numbered, located_rows(source_table, "line_too_long", location, payloads)
