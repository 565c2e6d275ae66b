"""dlt source for the fx API, declared with dlt's `rest_api` source."""

from datetime import date

import dlt
from dlt.extract import DltResource
from dlt.sources.rest_api import rest_api_resources

from loaders.contracts import SCHEMA_CONTRACT
from loaders.fx import settings
from loaders.rest import (
    PageLocations,
    bearer_auth,
    contract_check,
    date_windows,
    retrying_session,
    track_last_date,
    with_column_hints,
)


@dlt.source(name="fx", schema_contract=SCHEMA_CONTRACT)
def fx(
    base_url: str = settings.DEFAULT_BASE_URL,
    token: str = dlt.secrets.value,
    lookback_days: int = settings.LOOKBACK_DAYS,
    initial_date: date = settings.INITIAL_DATE,
) -> list[DltResource]:
    """Daily reference rates (units of currency per EUR) from the fx API at `base_url`."""
    pages = PageLocations()
    windows = date_windows(
        "rate_windows",
        initial_date=initial_date,
        lookback_days=lookback_days,
        max_days=settings.WINDOW_DAYS,
    )
    resources = rest_api_resources(
        {
            "client": {
                "base_url": base_url,
                "auth": bearer_auth(token),
                "session": retrying_session(),
                "paginator": "single_page",
            },
            "resources": [
                windows,
                {
                    "name": "rates",
                    "primary_key": ["rate_date", "currency"],
                    "write_disposition": "merge",
                    "endpoint": {
                        "path": "rates",
                        "data_selector": "rates",
                        "params": {
                            "start_date": "{resources.rate_windows.start_date}",
                            "end_date": "{resources.rate_windows.end_date}",
                        },
                        "response_actions": [pages.hook("rates")],
                    },
                    "processing_steps": [
                        {"map": track_last_date("rate_windows", "rate_date")},
                    ],
                },
            ],
        }
    )
    for resource in resources:
        if resource.name == "rates":
            resource.add_step(contract_check("rates", settings.RATE_CONTRACT, None, pages))
    return with_column_hints(resources, {"rates": settings.COLUMNS})
