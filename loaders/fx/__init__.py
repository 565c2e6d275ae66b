"""dlt source for the fx API, declared with dlt's `rest_api` source (see README.md)."""

from datetime import date

import dlt
from dlt.extract import DltResource, DltSource

from loaders.contracts import SCHEMA_CONTRACT
from loaders.dispositions import LoadedRows
from loaders.fx import settings
from loaders.registry import SourceContext
from loaders.rest import checked_rest_api_resources, date_windowed


@dlt.source(name="fx", schema_contract=SCHEMA_CONTRACT)
def fx(
    base_url: str = settings.DEFAULT_BASE_URL,
    token: str = dlt.secrets.value,
    lookback_days: int = settings.LOOKBACK_DAYS,
    initial_date: date = settings.INITIAL_DATE,
    loaded_rows: LoadedRows | None = None,
) -> list[DltResource]:
    """Daily reference rates (units of currency per EUR) from the fx API at `base_url`.

    Args:
        base_url: The API's root URL (`sources.fx.base_url`).
        token: The API's bearer token (`sources.fx.token` in `.dlt/secrets.toml`).
        lookback_days: How many days before the last loaded `rate_date` the rates are requested
            again, so a corrected rate replaces the earlier one.
        initial_date: The first day requested on the first run.
        loaded_rows: The rows a table holds in the destination now (None before its first
            load): a table the destination holds none of is appended, not merged
            (`loaders.dispositions`).

    Returns:
        The resources `rates` (merged on `rate_date`, `currency`) and `quarantined_records`,
        the rates that break `settings.RATE_CONTRACT`. `rate_windows` only drives the requests.
    """
    return checked_rest_api_resources(
        base_url=base_url,
        token=token,
        paginator="single_page",
        resources=date_windowed(
            {
                "name": "rates",
                "primary_key": ["rate_date", "currency"],
                "endpoint": {"path": "rates", "data_selector": "rates"},
            },
            windows_name="rate_windows",
            date_field="rate_date",
            initial_date=initial_date,
            lookback_days=lookback_days,
            max_days=settings.WINDOW_DAYS,
        ),
        contracts={"rates": settings.RATE_CONTRACT},
        loaded_rows=loaded_rows,
        column_hints={"rates": settings.COLUMNS},
    )


def from_context(context: SourceContext) -> DltSource:
    """The fx source, configured by dlt (`sources.fx.*`)."""
    return fx(loaded_rows=context.loaded_rows if context.pipeline else None)
