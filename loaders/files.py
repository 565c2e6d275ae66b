"""Shared reading of file drops: which files are new, and text-safe CSV / JSON-lines readers.

Which files to read: dlt's `filesystem` resource lists the folder, and each transformer keeps, in
its resource state, the modification time and size of every file it has read completely. A file
is read when it is new or its modification time or size changed (a re-delivered file), so a
re-run reads nothing. A file that fails to read is not recorded, so the next run tries it again,
even when newer files were read after it (a single "highest modification time" cursor would skip
it for ever). Each file is read whole before anything is yielded, so a file lands completely or
not at all.
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.csv as pa_csv
from dlt.common.storages.fsspec_filesystem import FileItemDict

from loaders.errors import LoaderError
from loaders.stats import record_file_error, record_file_read

# JSON lines are read as one text column: this separator never occurs unescaped in valid JSON.
_LINE_SEPARATOR = "\x1e"


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


def read_new_files(
    items: Iterable[FileItemDict],
    location_prefix: str,
    read_file: Callable[[bytes, str], list[Any]],
) -> Iterator[Any]:
    """Yield what `read_file(content, location)` returns for every new or changed file.

    `location` is `location_prefix` + the file's path relative to the listed folder; it names
    the file in quarantined records, error messages and the load report.
    """
    read_files: dict[str, str] = dlt.current.resource_state().setdefault("files", {})
    for item in sorted(items, key=lambda file_item: file_item["relative_path"]):
        relative_path = item["relative_path"]
        version = f"{item['modification_date'].isoformat()}|{item.get('size_in_bytes')}"
        if read_files.get(relative_path) == version:
            continue
        location = f"{location_prefix}{relative_path}"
        try:
            items_of_file = read_file(item.read_bytes(), location)
        # any failure to read one file (corrupt gzip, truncated Parquet, I/O error) is reported
        # with its name while the other files of the load still land
        except Exception as error:
            record_file_error(f"cannot read {location}: {_one_line(error)}")
            continue
        yield from items_of_file
        read_files[relative_path] = version
        record_file_read(location)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def _numbered(table: pa.Table, first_line: int, rejected_lines: set[int]) -> pa.Table:
    """Append `_source_line`: the file line of each row, skipping the rejected lines."""
    numbers: list[int] = []
    line = first_line
    while len(numbers) < table.num_rows:
        if line not in rejected_lines:
            numbers.append(line)
        line += 1
    return table.append_column("_source_line", pa.array(numbers, pa.int64()))


def read_csv_text(
    content: bytes, *, delimiter: str, encoding: str
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Read a CSV with a header as text columns; return (rows, [(line, raw text)] malformed).

    Malformed rows (wrong number of fields) are returned, not dropped, with their line number.
    """
    header_end = content.find(b"\n")
    header_line = content[: header_end if header_end >= 0 else len(content)].decode(encoding)
    names = next(csv.reader([header_line.strip("\r\n")], delimiter=delimiter))
    rejected: list[tuple[int, str]] = []

    def keep_malformed(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.text))
        return "skip"

    table = pa_csv.read_csv(
        pa.py_buffer(content),
        read_options=pa_csv.ReadOptions(encoding=encoding, use_threads=False),
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


def read_text_lines(content: bytes) -> pa.Table:
    """Read newline-separated text as a (`line`, `_source_line`) table, every line kept."""
    rejected: list[tuple[int, str]] = []

    def keep_whole_line(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.text))
        return "skip"

    table = pa_csv.read_csv(
        pa.py_buffer(content),
        read_options=pa_csv.ReadOptions(column_names=["line"], use_threads=False),
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
    if not rejected:
        return numbered
    # a line holding the separator byte is not valid JSON: keep it so it is quarantined
    extra = pa.table(
        {
            "line": pa.array([text for _, text in rejected], pa.string()),
            "_source_line": pa.array([number for number, _ in rejected], pa.int64()),
        }
    )
    return pa.concat_tables([numbered, extra])
