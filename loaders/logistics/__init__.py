"""dlt source for the 3PL's file drops: shipment and tracking CSVs and inventory Parquet."""

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.common.storages.fsspec_filesystem import FileItemDict
from dlt.extract import DltResource, DltSource
from dlt.sources.filesystem import filesystem

from loaders.contracts import SCHEMA_CONTRACT
from loaders.files import located_rows, read_csv_text, read_new_files, require_folder
from loaders.logistics import settings
from loaders.logistics.settings import FileTable
from loaders.quarantine import quarantine_table, quarantine_table_resource
from loaders.registry import SourceContext
from loaders.validation import split_records


def _map_renamed_cost_column(rows: pa.Table) -> pa.Table:
    """Map `freight_cost` back to `shipping_cost`, keeping the name the file used."""
    renames = settings.SHIPPING_COST_RENAMES
    used = next((name for name in rows.column_names if name in renames), "shipping_cost")
    rows = rows.rename_columns([renames.get(name, name) for name in rows.column_names])
    return rows.append_column(
        "shipping_cost_source_column", pa.array([used] * rows.num_rows, pa.string())
    )


def _csv_reader(file_table: FileTable) -> Callable[[bytes, str], list[Any]]:
    def read(content: bytes, location: str) -> list[Any]:
        rows, malformed = read_csv_text(
            content,
            delimiter=file_table.delimiter,
            encoding=file_table.encoding,
            required_columns=file_table.contract.required,
        )
        if file_table is settings.SHIPMENTS:
            rows = _map_renamed_cost_column(rows)
        clean, quarantined = split_records(
            rows,
            source_table=file_table.table_name,
            contract=file_table.contract,
            location=location,
            primary_key=file_table.primary_key,
        )
        malformed_rows = located_rows(
            file_table.table_name, "malformed_csv_row", location, malformed
        )
        rejected = pa.concat_tables([malformed_rows, quarantined])
        return [clean, quarantine_table(rejected, location)]

    return read


def _read_inventory(content: bytes, location: str) -> list[Any]:
    snapshot = pq.read_table(pa.py_buffer(content))
    # checked like the CSVs: as text first, then cast by the contract
    as_text = pa.table({name: snapshot[name].cast(pa.string()) for name in snapshot.column_names})
    numbered = as_text.append_column(
        "_source_line", pa.array(range(1, snapshot.num_rows + 1), pa.int64())
    )
    clean, quarantined = split_records(
        numbered,
        source_table=settings.INVENTORY.table_name,
        contract=settings.INVENTORY.contract,
        location=location,
        primary_key=settings.INVENTORY.primary_key,
    )
    return [clean, quarantine_table(quarantined, location)]


def _file_resource(
    bucket_url: str, file_table: FileTable, read_file: Callable[[bytes, str], list[Any]]
) -> DltResource:
    """The resource loading `file_table` from its sub-folder of `bucket_url`.

    Args:
        bucket_url: The 3PL drops' folder.
        file_table: The file kind: sub-folder, file glob, table, key and contract.
        read_file: Turns a file's bytes and location into its clean rows and quarantined rows.

    Returns:
        A file listing piped into a transformer named after the table, which yields, per new or
        re-delivered file, its clean rows (with `_source_file` and `_source_line`), its
        quarantined rows and the file's delivery record.
    """
    folder = f"{bucket_url.rstrip('/')}/{file_table.folder}"
    require_folder(folder, f"logistics {file_table.folder}")
    prefix = f"{settings.LOCATION_PREFIX}{PurePosixPath(file_table.folder)}/"

    def read_files(file_items: list[FileItemDict]) -> Any:
        yield from read_new_files(file_items, prefix, read_file)

    listing = filesystem(bucket_url=folder, file_glob=file_table.file_glob).with_name(
        f"{file_table.folder}_files"
    )
    # appended and replaced by file (loaders.files), not merged on the business key
    reader = dlt.transformer(read_files, name=file_table.table_name, write_disposition="append")
    return listing | reader


@dlt.source(name="logistics", schema_contract=SCHEMA_CONTRACT)
def logistics(bucket_url: str = dlt.config.value) -> list[DltResource]:
    """Shipments, tracking events and inventory snapshots from the 3PL folder `bucket_url`.

    Args:
        bucket_url: The folder or fsspec URL of the 3PL drops (`sources.logistics.bucket_url`,
            by default `<data dir>/sources/logistics`), with one sub-folder per file kind; a
            missing folder stops the load with a clear message.

    Returns:
        The resources `shipments`, `tracking_events` and `inventory_snapshots` (each appended
        and replaced by file when a file is re-delivered; see `_file_resource`) and
        `quarantined_records`.
    """
    return [
        _file_resource(bucket_url, settings.SHIPMENTS, _csv_reader(settings.SHIPMENTS)),
        _file_resource(bucket_url, settings.TRACKING, _csv_reader(settings.TRACKING)),
        _file_resource(bucket_url, settings.INVENTORY, _read_inventory),
        quarantine_table_resource(file_source=True),
    ]


def from_context(context: SourceContext) -> DltSource:
    """The logistics source over `sources.logistics.bucket_url`, else `<sources>/logistics`."""
    return logistics(bucket_url=context.folder("logistics"))
