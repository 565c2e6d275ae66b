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

# Quarantine is for records the warehouse cannot represent: no key, no amount (with its
# currency and status, which say what the amount is), no timestamp, an unparsable value. Any
# other oddity is still money that moved or may move, so it lands with the value kept: a refund
# with an unknown reason or without its charge, a charge with an unknown status or method or
# without an order number, an amount in a currency without FX rates. Staging flags unknown codes
# against the lists in dbt_project.yml (var source_codes); see docs/source_systems.md.
CONTRACTS = {
    "charges": RecordContract(
        required=("id", "amount", "currency", "status", "created", "updated"),
        integers=("amount", "created", "updated"),
    ),
    "refunds": RecordContract(
        required=("id", "amount", "currency", "status", "created", "updated"),
        integers=("amount", "created", "updated"),
    ),
    "payouts": RecordContract(
        required=("id", "currency", "amount", "arrival_date", "created", "updated"),
        integers=("amount", "fee_amount", "charge_count", "created", "updated"),
        dates=("arrival_date",),
    ),
}

_MOVEMENT_COLUMNS = {
    "amount": {"data_type": "bigint"},
    "created": {"data_type": "bigint"},
    "updated": {"data_type": "bigint"},
}
COLUMNS = {
    "charges": _MOVEMENT_COLUMNS,
    "refunds": _MOVEMENT_COLUMNS,
    "payouts": {
        "amount": {"data_type": "bigint"},
        "fee_amount": {"data_type": "bigint"},
        "charge_count": {"data_type": "bigint"},
        "arrival_date": {"data_type": "date"},
        "created": {"data_type": "bigint"},
        "updated": {"data_type": "bigint"},
    },
}
