"""Settings of the 3PL file drops below `sources/logistics/`.

Three file kinds, each read whole per file and appended with its file and line; a re-delivered
file (same name, corrected content, new modification time) replaces everything its earlier
delivery landed (`loaders.files`). A key repeated within or across files is one raw row per
line; staging keeps one row per key:

- shipments CSV (`,`, UTF-8): key `shipment_id`. From the schema-change day the 3PL calls
  `shipping_cost` `freight_cost`; the reader maps it back to `shipping_cost` and records which
  name the file used in `shipping_cost_source_column`.
- tracking CSV (`;`, Windows-1252): key `tracking_event_id`.
- inventory Parquet: key (`snapshot_date`, `warehouse_code`, `sku`).

CSV rows with the wrong number of fields are quarantined as `malformed_csv_row` with their line
and raw text; rows breaking a `RecordContract` with the reason it names. A file whose header lacks
a required column is refused whole; text that is valid UTF-8 is read as UTF-8 whatever the
declared encoding (`loaders.files.as_utf8`). Timestamps are converted
to UTC. Columns a file adds beyond these are loaded as text (the contract lets columns evolve).
"""

from dataclasses import dataclass

from loaders.contracts import RecordContract

LOCATION_PREFIX = "logistics/"

SHIPPING_COST_RENAMES = {"freight_cost": "shipping_cost"}
"""Columns the 3PL renamed: new name -> the name the warehouse keeps."""


@dataclass(frozen=True)
class FileTable:
    """One kind of file drop and the table it lands in."""

    table_name: str
    folder: str
    file_glob: str
    primary_key: tuple[str, ...]
    contract: RecordContract
    delimiter: str = ","
    encoding: str = "utf-8"


SHIPMENTS = FileTable(
    table_name="shipments",
    folder="shipments",
    file_glob="shipments_*.csv",
    primary_key=("shipment_id",),
    # a shipment without an order number or with an unknown warehouse or service level is a
    # real parcel: it lands with the value kept (see loaders/payments/settings.py); only a row
    # without its key or ship time, or with an unparsable value, is quarantined
    contract=RecordContract(
        required=("shipment_id", "shipped_at"),
        timestamps=("shipped_at",),
        integers=("package_count",),
        decimals=("shipping_cost",),
        floats=("weight_kg",),
    ),
)

TRACKING = FileTable(
    table_name="tracking_events",
    folder="tracking",
    file_glob="tracking_*.csv",
    primary_key=("tracking_event_id",),
    contract=RecordContract(
        required=("tracking_event_id", "shipment_id", "event_code", "event_at"),
        timestamps=("event_at",),
    ),
    delimiter=";",
    encoding="cp1252",
)

INVENTORY = FileTable(
    table_name="inventory_snapshots",
    folder="inventory",
    file_glob="inventory_*.parquet",
    primary_key=("snapshot_date", "warehouse_code", "sku"),
    contract=RecordContract(
        required=("snapshot_date", "warehouse_code", "sku"),
        dates=("snapshot_date",),
        integers=("on_hand_qty", "reserved_qty", "inbound_qty"),
    ),
)
