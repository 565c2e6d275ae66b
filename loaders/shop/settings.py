"""Settings of the shop database (any SQLAlchemy URL; SQLite by default).

Load strategy per table:

- Most tables load incrementally on `updated_at` and merge on their primary key. Each run
  re-reads a lookback window (`LOOKBACK_SECONDS`, two days) before the last cursor value, so
  rows committed late with an older `updated_at` are picked up; re-read rows merge, nothing
  duplicates. The window also makes a text cursor safe: the simulated shop stores timestamps
  as ISO text with mixed offsets, so the database compares them as text with the cursor
  rendered as UTC ISO text (off by at most the largest offset, 14 h), while dlt filters the
  rows it receives exactly, in UTC. Real timestamp columns compare natively.
- `order_status_history` is append-only: incremental on `changed_at`, merged on
  `status_history_id` so the lookback does not duplicate it.
- `customers` and `addresses` are small and customers who ask to be forgotten are hard-deleted
  with their addresses: they load in full with `replace` on every run, so an erased customer
  disappears from the warehouse on the next load (an incremental cursor never sees a delete).

Timestamps (`*_at`) are parsed from ISO 8601 text with any offset to UTC timestamps, and the
discount validity columns to dates, before they land.
"""

from dataclasses import dataclass

LOOKBACK_SECONDS = 2 * 24 * 3600
CHUNK_SIZE = 50_000
DEFAULT_DATABASE_FILE = "shop.sqlite"


@dataclass(frozen=True)
class ShopTable:
    """One shop table and how it loads."""

    name: str
    primary_key: str
    cursor: str | None
    """Incremental cursor column; None loads the table in full with `replace`."""


TABLES = (
    ShopTable("product_categories", "category_id", "updated_at"),
    ShopTable("products", "product_id", "updated_at"),
    ShopTable("customers", "customer_id", None),
    ShopTable("addresses", "address_id", None),
    ShopTable("discounts", "discount_id", "updated_at"),
    ShopTable("orders", "order_id", "updated_at"),
    ShopTable("order_lines", "order_line_id", "updated_at"),
    ShopTable("order_status_history", "status_history_id", "changed_at"),
)

TIMESTAMP_SUFFIX = "_at"
DATE_COLUMNS = ("valid_from", "valid_to")
