"""What a correct load holds, computed from the simulator's ground truth."""

import sqlite3
from collections.abc import Callable

from tests.loaders.conftest import Warehouse


def defect_items(warehouse: Warehouse, defect: str) -> list[dict]:
    return warehouse.ground_truth["defects"][defect]["items"]


def entities(warehouse: Warehouse, table: str) -> int:
    return warehouse.ground_truth["tables"][table]["entities"]


MALFORMED_DEFECT = {
    "null_web_field": "malformed_web_line",
    "unknown_web_event_type": "malformed_web_line",
    "null_shipment_order_number": "malformed_shipments_row",
    "unknown_tracking_event_code": "malformed_tracking_row",
}


def malformed_ids(warehouse: Warehouse, defect: str) -> set[str]:
    """Ids of records whose line is malformed too: those are quarantined as malformed."""
    if defect not in MALFORMED_DEFECT:
        return set()
    items = defect_items(warehouse, MALFORMED_DEFECT[defect])
    return {item.get("id") or item.get("event_id") for item in items}


OTHER_DEFECT = {"unknown_web_event_type": ("null_web_field", "event_id")}
"""A defect whose records another defect may also hit, so that they are rejected for it: an
event of an unknown type may have lost its type or visitor too."""


def also_rejected_ids(warehouse: Warehouse, defect: str) -> set[str]:
    """Ids of a defect's records that are rejected for another reason (a malformed line, a
    missing field), so that they do not land whatever the defect's own verdict."""
    ids = malformed_ids(warehouse, defect)
    if defect in OTHER_DEFECT:
        other, id_field = OTHER_DEFECT[defect]
        ids |= {item[id_field] for item in defect_items(warehouse, other)}
    return ids


def rejected(warehouse: Warehouse, defect: str, id_field: str) -> int:
    """Distinct entities a defect keeps out of the clean table."""
    ids = {item[id_field] for item in defect_items(warehouse, defect)}
    return len(ids - malformed_ids(warehouse, defect))


EXPECTED_CLEAN: dict[str, Callable[[Warehouse], int]] = {
    "raw_payments.charges": lambda w: (
        entities(w, "payments.charges") - rejected(w, "null_charge_amount", "charge_id")
    ),
    # unknown codes (a refund reason, a tracking code, a web event type) and a shipment without
    # an order number land flagged: only what the warehouse cannot represent is rejected
    "raw_payments.refunds": lambda w: entities(w, "payments.refunds"),
    "raw_payments.payouts": lambda w: entities(w, "payments.payouts"),
    "raw_ads.campaigns": lambda w: entities(w, "ads.campaigns"),
    "raw_ads.ad_groups": lambda w: entities(w, "ads.ad_groups"),
    "raw_ads.daily_reports": lambda w: entities(w, "ads.daily_reports"),
    "raw_fx.rates": lambda w: entities(w, "fx.rates"),
    "raw_web.events": lambda w: (
        entities(w, "web.events") - rejected(w, "null_web_field", "event_id")
    ),
    "raw_logistics.shipments": lambda w: entities(w, "logistics.shipments"),
    "raw_logistics.tracking_events": lambda w: entities(w, "logistics.tracking"),
    "raw_logistics.inventory_snapshots": lambda w: entities(w, "logistics.inventory"),
}


FILE_TABLE_KEYS = {
    "raw_web.events": "event_id",
    "raw_logistics.shipments": "shipment_id",
    "raw_logistics.tracking_events": "tracking_event_id",
    "raw_logistics.inventory_snapshots": "snapshot_date, warehouse_code, sku",
}
"""Keys of the tables landed from files: they keep every line a file delivered (one row per
file and line), so an entity sent twice is two rows there and one in staging."""


def entities_loaded(warehouse: Warehouse, table: str) -> int:
    """Distinct entities in raw table `table`: rows, or distinct keys for a file table."""
    if table in FILE_TABLE_KEYS:
        return warehouse.scalar(
            f"select count(*) from (select distinct {FILE_TABLE_KEYS[table]} from {table})"
        )
    return warehouse.count(table)


ReportNumbers = dict[tuple[str, int], tuple[int, float, int]]


def ad_reports_and_api_state(warehouse: Warehouse) -> tuple[ReportNumbers, ReportNumbers]:
    """Daily ad reports as loaded and as the ads API holds them now (after restatements)."""
    query = "select report_date, campaign_id, clicks, spend, platform_conversions from {table}"
    api_state = sqlite3.connect(warehouse.data_dir / "sources" / "api.sqlite")
    try:
        latest = {
            (str(day), campaign): (clicks, round(float(spend), 2), conversions)
            for day, campaign, clicks, spend, conversions in api_state.execute(
                query.format(table="ad_daily_reports")
            )
        }
    finally:
        api_state.close()
    loaded = {
        (day.isoformat(), campaign): (clicks, round(float(spend), 2), conversions)
        for day, campaign, clicks, spend, conversions in warehouse.query(
            query.format(table="raw_ads.daily_reports")
        )
    }
    return loaded, latest
