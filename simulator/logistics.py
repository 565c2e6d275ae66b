"""The 3PL's file drops: shipment manifests, carrier tracking events and stock snapshots."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from simulator.inventory import Inventory
from simulator.lifecycle import DayOutput
from simulator.world import World

SHIPMENT_COLUMNS = [
    "shipment_id",
    "order_number",
    "warehouse_code",
    "carrier_code",
    "service_level",
    "shipped_at",
    "package_count",
    "weight_kg",
    "shipping_cost",
    "currency_code",
    "destination_country",
    "destination_postcode",
]
TRACKING_COLUMNS = [
    "tracking_event_id",
    "shipment_id",
    "carrier_code",
    "event_code",
    "event_at",
    "location",
    "country_code",
]
INVENTORY_SCHEMA = pa.schema(
    [
        ("snapshot_date", pa.date32()),
        ("warehouse_code", pa.string()),
        ("sku", pa.string()),
        ("on_hand_qty", pa.int32()),
        ("reserved_qty", pa.int32()),
        ("inbound_qty", pa.int32()),
    ]
)


def write_atomically(path: Path, content: bytes) -> None:
    """Replace `path` in one step, so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    os.replace(partial, path)


class _CsvDrop:
    """One CSV file of a day: rows, malformed ones among them, and a possible re-delivery."""

    def __init__(
        self, world: World, day: int, source: str, header: list[str], delimiter: str, encoding: str
    ):
        self.world, self.day, self.source = world, day, source
        self.header, self.delimiter, self.encoding = header, delimiter, encoding
        self.path = (
            world.sources_dir
            / "logistics"
            / source
            / f"{source}_{world.date_of(day).isoformat()}.csv"
        )
        self.rng = world.rng(day, f"{source}-file")

    def _line(self, values: list) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, lineterminator="\n").writerow(
            ["" if value is None else value for value in values]
        )
        return buffer.getvalue()

    def write(self, rows: list[tuple[list, bool, bool]]) -> None:
        """Write rows given as (values, is_copy, may_malform); rows are data-ordered."""
        defects = self.world.settings.defects
        lines, entities = [self._line(self.header)], 0
        for values, is_copy, may_malform in rows:
            line = self._line(values)
            if (
                may_malform
                and not is_copy
                and self.world.hit(
                    f"malformed_{self.source}_row", defects.malformed_csv_row, self.rng
                )
            ):
                fields = line.rstrip("\n").split(self.delimiter)
                # Either a field went missing or a stray delimiter split one in two.
                if self.rng.random() < 0.5:
                    fields = fields[:-1]
                else:
                    fields.insert(3, "")
                line = self.delimiter.join(fields) + "\n"
                self.world.record_defect(
                    f"malformed_{self.source}_row",
                    self.day,
                    file=self.path.name,
                    line=len(lines) + 1,
                    id=values[0],
                )
            else:
                entities += not is_copy
            lines.append(line)

        content = "".join(lines)
        held_back: list[int] = []
        if len(lines) > 2 and self.world.hit(
            "redelivered_file", defects.redelivered_file, self.rng
        ):
            # The first delivery misses some rows; tomorrow the 3PL sends the whole file again.
            count = max(1, (len(lines) - 1) // 10)
            held_back = sorted(self.rng.sample(range(1, len(lines)), count))
            first = "".join(line for index, line in enumerate(lines) if index not in held_back)
            self.world.schedule(
                self.world.day_start(self.day + 1) + 9 * 3600,
                "redeliver",
                {
                    "source": self.source,
                    "path": str(self.path.relative_to(self.world.sources_dir)),
                    "content": content,
                    "encoding": self.encoding,
                    "delivered_on": self.world.date_of(self.day).isoformat(),
                    "missing_ids": [lines[index].split(self.delimiter)[0] for index in held_back],
                },
            )
            content = first
        write_atomically(self.path, content.encode(self.encoding).replace(b"\n", self.newline))
        self.world.count_rows(
            self.source, len(lines) - 1 - len(held_back), entities - len(held_back)
        )

    @property
    def newline(self) -> bytes:
        # The carrier's export comes from a Windows system; the 3PL's manifest does not.
        return b"\r\n" if self.encoding == "cp1252" else b"\n"


def write_logistics_day(world: World, day: int, output: DayOutput, inventory: Inventory) -> None:
    """Write the day's shipment manifest, tracking events and stock snapshot, and re-deliver
    the files that went out incomplete the day before."""
    for redelivery in output.redeliveries:
        _redeliver(world, day, redelivery)
    header = list(SHIPMENT_COLUMNS)
    if day >= world.settings.schema_change_day:
        header[header.index("shipping_cost")] = "freight_cost"
    _CsvDrop(world, day, "shipments", header, ",", "utf-8").write(
        [(row, False, True) for row in output.shipment_rows]
    )
    _CsvDrop(world, day, "tracking", TRACKING_COLUMNS, ";", "cp1252").write(
        [(entry["row"], entry["copy"], not entry["has_copy"]) for entry in output.tracking_rows]
    )
    _write_inventory(world, day, inventory)


def _redeliver(world: World, day: int, redelivery: dict) -> None:
    path = world.sources_dir / redelivery["path"]
    newline = b"\r\n" if redelivery["encoding"] == "cp1252" else b"\n"
    write_atomically(
        path, redelivery["content"].encode(redelivery["encoding"]).replace(b"\n", newline)
    )
    missing = len(redelivery["missing_ids"])
    world.count_rows(redelivery["source"], missing, missing)
    world.record_defect(
        "redelivered_file",
        day,
        file=path.name,
        delivered_on=redelivery["delivered_on"],
        redelivered_on=world.date_of(day).isoformat(),
        missing_ids=redelivery["missing_ids"],
    )


def _write_inventory(world: World, day: int, inventory: Inventory) -> None:
    skus = dict(world.db.execute("select product_id, sku from products"))
    keys = sorted(inventory.levels, key=lambda key: (key[0], skus[key[1]]))
    snapshot_date = world.date_of(day)
    table = pa.table(
        [
            pa.array([snapshot_date] * len(keys), pa.date32()),
            pa.array([warehouse for warehouse, _ in keys], pa.string()),
            pa.array([skus[product_id] for _, product_id in keys], pa.string()),
            pa.array([inventory.levels[key][0] for key in keys], pa.int32()),
            pa.array([inventory.levels[key][1] for key in keys], pa.int32()),
            pa.array([inventory.levels[key][2] for key in keys], pa.int32()),
        ],
        schema=INVENTORY_SCHEMA,
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    path = world.sources_dir / "logistics" / "inventory" / f"inventory_{snapshot_date}.parquet"
    write_atomically(path, sink.getvalue().to_pybytes())
    world.count_rows("inventory", len(keys), len(keys))
