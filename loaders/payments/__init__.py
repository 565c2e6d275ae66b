"""dlt source for the payments API, declared with dlt's `rest_api` source (see README.md)."""

import dlt
from dlt.extract import DltResource, DltSource

from loaders.contracts import SCHEMA_CONTRACT
from loaders.dispositions import LoadedRows
from loaders.payments import settings
from loaders.registry import SourceContext
from loaders.rest import checked_rest_api_resources, updated_since


@dlt.source(name="payments", schema_contract=SCHEMA_CONTRACT)
def payments(
    base_url: str = settings.DEFAULT_BASE_URL,
    token: str = dlt.secrets.value,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    page_size: int = settings.PAGE_SIZE,
    loaded_rows: LoadedRows | None = None,
) -> list[DltResource]:
    """Charges, refunds and payouts from the payments API at `base_url`.

    Args:
        base_url: The API's root URL (`sources.payments.base_url`).
        token: The API's bearer token (`sources.payments.token` in `.dlt/secrets.toml`).
        lookback_seconds: How far before the highest `updated` already loaded each list is read
            again, for records committed late.
        page_size: Records requested per page (`limit`).
        loaded_rows: The rows a table holds in the destination now (None before its first
            load): a table the destination holds none of is appended, not merged
            (`loaders.dispositions`).

    Returns:
        The resources `charges`, `refunds` and `payouts` (each merged on `id`, amounts in minor
        units and timestamps in epoch seconds as the API sends them) and
        `quarantined_records`, the records that break their contract in `settings.CONTRACTS`.
    """
    return checked_rest_api_resources(
        base_url=base_url,
        token=token,
        paginator={
            "type": "cursor",
            "cursor_path": "next_cursor",
            "cursor_param": "starting_after",
        },
        resource_defaults={
            "primary_key": settings.PRIMARY_KEY,
            "endpoint": {"data_selector": "data"},
        },
        resources=[
            {
                "name": name,
                "endpoint": {
                    "path": name,
                    "params": {
                        "limit": page_size,
                        "updated_since": updated_since(
                            settings.CURSOR_FIELD, initial_value=0, lag=lookback_seconds
                        ),
                    },
                },
            }
            for name in settings.CONTRACTS
        ],
        contracts=settings.CONTRACTS,
        loaded_rows=loaded_rows,
        column_hints=settings.COLUMNS,
    )


def from_context(context: SourceContext) -> DltSource:
    """The payments source, configured by dlt (`sources.payments.*`)."""
    return payments(loaded_rows=context.loaded_rows if context.pipeline else None)
