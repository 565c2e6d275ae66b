"""Settings of the fx API (daily EUR reference rates, business days only).

Rates are requested by date windows of at most `WINDOW_DAYS` (the API's limit is 366 days) from
the last loaded `rate_date` less `LOOKBACK_DAYS` up to today, and merge on
(`rate_date`, `currency`), so a corrected rate replaces the earlier one.
"""

from datetime import date

from loaders.contracts import RecordContract

DEFAULT_BASE_URL = "http://127.0.0.1:8765/fx/v1"
WINDOW_DAYS = 366
LOOKBACK_DAYS = 7
INITIAL_DATE = date(2020, 1, 1)

COLUMNS = {
    "rate_date": {"data_type": "date"},
    "currency": {"data_type": "text"},
    "rate": {"data_type": "double"},
}
RATE_CONTRACT = RecordContract(
    required=("rate_date", "currency", "rate"),
    dates=("rate_date",),
    floats=("rate",),
)
