"""Settings of the payments API (a Stripe-like card processor).

Cursor pagination (`starting_after` = `next_cursor` of the previous page); every list is read
incrementally with `updated_since` = the highest `updated` (epoch seconds) loaded so far less a
lookback (`LOOKBACK_SECONDS`, a day), so records updated in the same second as the last load or
committed late are read again; records merge on `id`, so re-reads and charges re-sent on a later
page land once. Amounts stay integers in minor units and timestamps epoch seconds, as the API
delivers them. Charges carry `risk_score` from the schema-change day on: a new column.
"""

from loaders.contracts import RecordContract

DEFAULT_BASE_URL = "http://127.0.0.1:8765/payments/v1"
PAGE_SIZE = 1000
LOOKBACK_SECONDS = 24 * 3600
PRIMARY_KEY = "id"
CURSOR_FIELD = "updated"

CURRENCIES = ("eur", "gbp", "usd")

CONTRACTS = {
    "charges": RecordContract(
        required=("id", "order_number", "amount", "currency", "status", "created", "updated"),
        enums={
            "status": ("succeeded", "failed", "pending"),
            "payment_method": ("card", "paypal", "klarna"),
            "currency": CURRENCIES,
        },
        integers=("amount", "created", "updated"),
    ),
    "refunds": RecordContract(
        required=("id", "charge_id", "amount", "currency", "status", "created", "updated"),
        enums={
            "reason": ("requested_by_customer", "duplicate", "fraudulent"),
            "status": ("succeeded", "pending", "failed"),
            "currency": CURRENCIES,
        },
        integers=("amount", "created", "updated"),
    ),
    "payouts": RecordContract(
        required=("id", "currency", "amount", "arrival_date", "created", "updated"),
        enums={"status": ("paid", "in_transit"), "currency": CURRENCIES},
        integers=("amount", "fee_amount", "charge_count", "created", "updated"),
        dates=("arrival_date",),
    ),
}

COLUMN_TYPES = {
    "charges": {"amount": "bigint", "created": "bigint", "updated": "bigint"},
    "refunds": {"amount": "bigint", "created": "bigint", "updated": "bigint"},
    "payouts": {
        "amount": "bigint",
        "fee_amount": "bigint",
        "charge_count": "bigint",
        "arrival_date": "date",
        "created": "bigint",
        "updated": "bigint",
    },
}
