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
- `customers` and `addresses` load incrementally too, but customers who ask to be forgotten
  are hard-deleted with their addresses, which no cursor sees. After each load the shop's keys
  of these tables (`hard_deletes`) are read and the warehouse's rows whose key the shop no
  longer has are deleted (`loaders.shop.delete_erased_rows`), so an erased customer disappears
  from the warehouse with the load that first misses them, while a day reads the day's changes
  and one key column, not every customer again. Rows the shop has and the warehouse lacks are
  read by key as well (`RESTORE_BY_KEY_LIMIT`), so rows restored from a backup with an old
  `updated_at`, which the incremental window no longer reaches, come back. The lake, whose
  Parquet files cannot delete rows in place, replaces these tables in full on every run
  instead. A read that would shrink such a table by more than `MAX_SHRINK_SHARE` (config
  `sources.shop.max_shrink_share`) stops the shop's load before anything of it loads: an empty
  `customers` table would otherwise erase every customer. `warehouse load shop --allow-shrink`
  accepts it once.

Timestamps (`*_at`) are parsed from ISO 8601 text with any offset to UTC timestamps, and the
discount validity columns to dates, before they land.

Contract: every table's `RecordContract` below names its required columns and its timestamp
and date columns. A row breaking it (a null or blank required value, a timestamp or date that
does not parse) is not loaded: it goes to `raw_shop.quarantined_records` with the reason and its
location (`<table>:<key>=<value>`), and the rest of the table still loads. Required means what
the warehouse cannot represent a row without: its own key, its amount and what says what the
amount is, its time, or (a line, a status change) the order that gives it a currency and a day.
A status, segment, type or currency the shop does not document is no breach, nor is a missing
reference to another row (an order's customer, a line's product, an address's customer, a
product's category): the row is real (an order is money), so it lands as sent and staging flags
it (`is_unknown_*` against the lists in dbt_project.yml, var `source_codes`; `has_customer`,
`has_product`); the marts put it on the dimension's unknown member (see docs/source_systems.md).
New columns in the database land as new columns.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from loaders.contracts import RecordContract

LOOKBACK_SECONDS = 2 * 24 * 3600
CHUNK_SIZE = 50_000
DEFAULT_DATABASE_FILE = "shop.sqlite"
MAX_SHRINK_SHARE = 0.5
"""A replaced table may lose at most this share of its rows in one load (0.5: half)."""
RESTORE_BY_KEY_LIMIT = 10_000
"""Rows of a table the shop deletes from that the warehouse lacks are read by key up to this
many keys (one bound parameter each; SQLite takes 32,766), else by reading the table whole."""
INITIAL_CURSOR = datetime(1970, 1, 1, tzinfo=UTC)
"""Where incremental tables start: before any shop row."""


@dataclass(frozen=True)
class ShopTable:
    """One shop table and how it loads."""

    name: str
    primary_key: str
    cursor: str | None
    """Incremental cursor column; None loads the table in full with `replace`."""
    contract: RecordContract = field(default_factory=RecordContract)
    hard_deletes: bool = False
    """The shop deletes rows of this table (erasures): after each load the warehouse drops the
    rows whose key the shop no longer has, and the shrink guard watches the table."""


TIMESTAMP_SUFFIX = "_at"
DATE_COLUMNS = ("valid_from", "valid_to")

TABLES = (
    ShopTable(
        "product_categories",
        "category_id",
        "updated_at",
        RecordContract(required=("category_id", "category_name", "updated_at")),
    ),
    ShopTable(
        "products",
        "product_id",
        "updated_at",
        RecordContract(
            # a product without its category is still the product order lines sold
            required=("product_id", "sku", "status", "list_price_eur", "updated_at"),
        ),
    ),
    ShopTable(
        "customers",
        "customer_id",
        "updated_at",
        RecordContract(
            required=("customer_id", "email", "segment", "created_at", "updated_at"),
        ),
        hard_deletes=True,
    ),
    ShopTable(
        "addresses",
        "address_id",
        "updated_at",
        RecordContract(
            # an address without its customer still says where its orders shipped
            required=("address_id", "address_type", "country_code", "updated_at"),
        ),
        hard_deletes=True,
    ),
    ShopTable(
        "discounts",
        "discount_id",
        "updated_at",
        RecordContract(
            required=("discount_id", "discount_code", "discount_type", "updated_at"),
        ),
    ),
    ShopTable(
        "orders",
        "order_id",
        "updated_at",
        RecordContract(
            required=(
                "order_id",
                "order_number",
                # no customer_id: an order whose customer is missing is still a sale
                "status",
                "currency_code",
                "total_amount",
                "ordered_at",
                "updated_at",
            ),
        ),
    ),
    ShopTable(
        "order_lines",
        "order_line_id",
        "updated_at",
        RecordContract(
            # no product_id: a line whose product is missing is still revenue; order_id stays,
            # since a line of no order has no currency, day or status
            required=("order_line_id", "order_id", "quantity", "updated_at"),
        ),
    ),
    ShopTable(
        "order_status_history",
        "status_history_id",
        "changed_at",
        RecordContract(
            required=("status_history_id", "order_id", "status", "changed_at"),
        ),
    ),
)
