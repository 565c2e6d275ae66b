"""dlt source for the web analytics export: gzipped JSON lines, read through DuckDB."""

import gzip
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.storages.fsspec_filesystem import FileItemDict
from dlt.extract import DltResource, DltSource
from dlt.sources.filesystem import filesystem

from loaders.contracts import SCHEMA_CONTRACT
from loaders.dispositions import LoadedRows, merge_after_first_load
from loaders.files import FileRows, read_new_files, read_text_lines, require_folder
from loaders.quarantine import (
    QUARANTINE_TABLE,
    quarantine_table_resource,
    register_quarantine_table,
)
from loaders.registry import SourceContext
from loaders.validation import split_json_lines
from loaders.web import settings


def _without_blank_lines(lines: pa.Table) -> pa.Table:
    """`lines` less those that are empty or only whitespace (Unicode's), which are no events.

    A line starting with `{` is not blank: only the others are trimmed, which spares trimming
    (copying) a file's every line.
    """
    maybe_blank = pc.indices_nonzero(pc.invert(pc.starts_with(lines["line"], "{")))
    if not len(maybe_blank):
        return lines
    trimmed = pc.utf8_trim_whitespace(lines["line"].take(maybe_blank))
    blank = maybe_blank.filter(pc.equal(pc.utf8_length(trimmed), 0))
    if not len(blank):
        return lines
    numbers = pa.array(range(lines.num_rows), pa.uint64())
    return lines.filter(pc.invert(pc.is_in(numbers, value_set=blank)))


def _read_events_file(content: bytes, location: str) -> FileRows:
    lines, too_long = read_text_lines(gzip.decompress(content), settings.TABLE_NAME, location)
    return FileRows(unchecked=_without_blank_lines(lines), quarantined=too_long)


def _check_events(lines: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Parse and check the lines of a batch of export files (with `_source_file`).

    A field the export adds lands as a new text column (the contract lets columns evolve).
    """
    return split_json_lines(
        lines,
        source_table=settings.TABLE_NAME,
        contract=settings.EVENT_CONTRACT,
        fields=settings.EVENT_FIELDS,
        primary_key=[settings.PRIMARY_KEY],
    )


def read_events(file_items: list[FileItemDict]) -> Any:
    """Web events of every new or re-delivered export file, with invalid lines quarantined.

    Args:
        file_items: A page of export files listed by dlt's `filesystem` resource; files
            already read (same name, modification time and size) are skipped.

    Yields:
        Per batch of files (`loaders.files.BATCH_ROWS`), their clean events as one pyarrow
        table (documented fields plus any new field as text, with `_source_file` and
        `_source_line`), then their quarantined lines (for `quarantined_records`) and the
        files' delivery records.
    """
    yield from read_new_files(
        file_items, settings.LOCATION_PREFIX, _read_events_file, _check_events
    )


@dlt.source(name="web", schema_contract=SCHEMA_CONTRACT)
def web(
    bucket_url: str = dlt.config.value,
    file_glob: str = settings.FILE_GLOB,
    loaded_rows: LoadedRows | None = None,
) -> list[DltResource]:
    """The web export's events from the files in `bucket_url` (a folder or fsspec URL).

    Args:
        bucket_url: The folder or fsspec URL holding the export (`sources.web.bucket_url`,
            by default `<data dir>/sources/web`); a missing folder stops the load with a clear
            message.
        file_glob: Which files of the folder are export files.
        loaded_rows: The rows a table holds in the destination now (None before its first
            load): `quarantined_records` is appended while it holds none (`loaders.dispositions`).

    Returns:
        The `events` resource (appended, replaced by file when a file is re-delivered) fed by
        the file listing `web_files`, and `quarantined_records`.
    """
    require_folder(bucket_url, "web export")
    listing = filesystem(bucket_url=bucket_url, file_glob=file_glob).with_name("web_files")
    # A transformer of this call's own: `listing | transformer` returns the transformer itself,
    # and dlt keeps the hints a run applies (its file format too) on it and its table
    # variants, so a module-level one carried one load's hints into the next of the process.
    # Appended and replaced by file (loaders.files), not merged on event_id.
    events = dlt.transformer(read_events, name=settings.TABLE_NAME, write_disposition="append")
    reader = listing | events
    disposition = merge_after_first_load(QUARANTINE_TABLE, loaded_rows)
    register_quarantine_table(reader, disposition)
    return [reader, quarantine_table_resource(file_source=True, write_disposition=disposition)]


def from_context(context: SourceContext) -> DltSource:
    """The web source over `sources.web.bucket_url`, else `<sources>/web`."""
    return web(
        bucket_url=context.folder("web"),
        loaded_rows=context.loaded_rows if context.pipeline else None,
    )
