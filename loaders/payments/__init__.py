"""dlt source for the payments API, declared with dlt's `rest_api` source."""

from typing import Any

import dlt
from dlt.extract import DltResource
from dlt.sources.rest_api import rest_api_resources

from loaders.contracts import SCHEMA_CONTRACT
from loaders.payments import settings
from loaders.rest import (
    PageLocations,
    bearer_auth,
    contract_check,
    retrying_session,
    with_column_hints,
)


@dlt.source(name="payments", schema_contract=SCHEMA_CONTRACT)
def payments(
    base_url: str = settings.DEFAULT_BASE_URL,
    token: str = dlt.secrets.value,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    page_size: int = settings.PAGE_SIZE,
) -> list[DltResource]:
    """Charges, refunds and payouts from the payments API at `base_url`."""
    pages = PageLocations()
    resources: list[Any] = [
        {
            "name": name,
            "endpoint": {
                "path": name,
                "params": {
                    "limit": page_size,
                    "updated_since": {
                        "type": "incremental",
                        "cursor_path": settings.CURSOR_FIELD,
                        "initial_value": 0,
                        "lag": lookback_seconds,
                        # quarantined records (no cursor) pass; clean ones always have one
                        "on_cursor_value_missing": "include",
                    },
                },
                "response_actions": [pages.hook(name)],
            },
        }
        for name in settings.CONTRACTS
    ]
    api_resources = rest_api_resources(
        {
            "client": {
                "base_url": base_url,
                "auth": bearer_auth(token),
                "session": retrying_session(),
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "next_cursor",
                    "cursor_param": "starting_after",
                },
            },
            "resource_defaults": {
                "primary_key": settings.PRIMARY_KEY,
                "write_disposition": "merge",
                "endpoint": {"data_selector": "data"},
            },
            "resources": resources,
        }
    )
    for resource in api_resources:
        contract = settings.CONTRACTS[resource.name]
        resource.add_step(contract_check(resource.name, contract, settings.PRIMARY_KEY, pages))
    column_hints = {
        name: {column: {"data_type": data_type} for column, data_type in types.items()}
        for name, types in settings.COLUMN_TYPES.items()
    }
    return with_column_hints(api_resources, column_hints)
