"""`ground_truth.json`: what the simulator generated and which identifiers each defect hit."""

from __future__ import annotations

import json
import os

from simulator.world import World

DEFECT_KINDS = (
    "ad_report_restatement",
    "duplicate_tracking_event",
    "duplicate_web_event",
    "hard_deleted_customer",
    "late_tracking_event",
    "late_web_event",
    "malformed_shipments_row",
    "malformed_tracking_row",
    "malformed_web_line",
    "mixed_offset",
    "null_charge_amount",
    "null_shipment_order_number",
    "null_web_field",
    "redelivered_file",
    "resent_charge",
    "unknown_refund_reason",
    "unknown_tracking_event_code",
    "unknown_web_event_type",
)

# The shop's tables and their primary keys (simulator/storage.py's SHOP_SCHEMA), in load order.
# The simulator owns the shop, so tests that look rows up in it read the keys from here. Each
# key is an increasing integer, so its maximum counts every entity ever created.
SHOP_TABLE_KEYS = {
    "product_categories": "category_id",
    "products": "product_id",
    "customers": "customer_id",
    "addresses": "address_id",
    "discounts": "discount_id",
    "orders": "order_id",
    "order_lines": "order_line_id",
    "order_status_history": "status_history_id",
}
API_TABLES = {
    "payments.charges": "charges",
    "payments.refunds": "refunds",
    "payments.payouts": "payouts",
    "ads.campaigns": "campaigns",
    "ads.ad_groups": "ad_groups",
    "ads.daily_reports": "ad_daily_reports",
    "fx.rates": "fx_rates",
}
FILE_SOURCES = {
    "web.events": "web_events",
    "logistics.shipments": "shipments",
    "logistics.tracking": "tracking",
    "logistics.inventory": "inventory",
}


def table_stats(world: World) -> dict[str, dict[str, int]]:
    """Rows written and distinct valid entities per table, over the whole simulation."""
    stats: dict[str, dict[str, int]] = {}
    for table, key in SHOP_TABLE_KEYS.items():
        rows, last_key = world.db.execute(f"select count(*), max({key}) from {table}").fetchone()
        stats[f"shop.{table}"] = {"rows": rows, "entities": last_key or 0}
    for name, table in API_TABLES.items():
        rows = world.db.execute(f"select count(*) from api.{table}").fetchone()[0]
        stats[name] = {"rows": rows, "entities": rows}
    resent = world.db.execute(
        "select count(*) from state.defects where kind = 'resent_charge'"
    ).fetchone()[0]
    stats["payments.charges"]["rows"] += resent
    counted = dict(
        (source, (rows, entities))
        for source, rows, entities in world.db.execute("select * from state.file_rows")
    )
    for name, source in FILE_SOURCES.items():
        rows, entities = counted.get(source, (0, 0))
        stats[name] = {"rows": rows, "entities": entities}
    return stats


def write_ground_truth(world: World, header: dict) -> None:
    """Stream the manifest from the simulator state to disk (it grows with every day, so it is
    never built in memory as a whole)."""
    path = world.sources_dir / "ground_truth.json"
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write("{\n")
        for key, value in header.items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)},\n")
        out.write(f'  "tables": {json.dumps(table_stats(world), sort_keys=True)},\n')
        out.write('  "defects": {')
        for index, kind in enumerate(DEFECT_KINDS):
            count = world.db.execute(
                "select count(*) from state.defects where kind = ?", (kind,)
            ).fetchone()[0]
            out.write(("," if index else "") + f'\n    "{kind}": {{"count": {count}, "items": [')
            rows = world.db.execute(
                "select day, detail from state.defects where kind = ? order by seq", (kind,)
            )
            for position, (day, detail) in enumerate(rows):
                item = json.loads(detail)
                item["date"] = world.date_of(day).isoformat()
                out.write(("," if position else "") + "\n      " + json.dumps(item, sort_keys=True))
            out.write("\n    ]}" if count else "]}")
        out.write("\n  }\n}\n")
    os.replace(partial, path)
