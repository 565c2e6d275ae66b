"""dlt source for the ads API, declared with dlt's `rest_api` source (see README.md)."""

from datetime import date

import dlt
from dlt.extract import DltResource, DltSource

from loaders.ads import settings
from loaders.contracts import SCHEMA_CONTRACT
from loaders.dispositions import LoadedRows
from loaders.registry import SourceContext
from loaders.rest import (
    checked_rest_api_resources,
    date_windowed,
    updated_since,
)


@dlt.source(name="ads", schema_contract=SCHEMA_CONTRACT)
def ads(
    base_url: str = settings.DEFAULT_BASE_URL,
    token: str = dlt.secrets.value,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    report_lookback_days: int = settings.REPORT_LOOKBACK_DAYS,
    initial_date: date = settings.INITIAL_DATE,
    page_size: int = settings.PAGE_SIZE,
    loaded_rows: LoadedRows | None = None,
) -> list[DltResource]:
    """Campaigns, their ad groups and daily campaign reports from the ads API at `base_url`.

    Args:
        base_url: The API's root URL (`sources.ads.base_url`).
        token: The API's bearer token (`sources.ads.token` in `.dlt/secrets.toml`).
        lookback_seconds: How far before the highest campaign `updated_at` already loaded the
            campaigns are read again.
        report_lookback_days: How many days before the last loaded `report_date` the reports
            are requested again (platforms restate recent days).
        initial_date: The first day requested on the first run.
        page_size: Records requested per page.
        loaded_rows: The rows a table holds in the destination now (None before its first
            load): a table the destination holds none of is appended, not merged
            (`loaders.dispositions`).

    Returns:
        The resources `campaigns` (merged on `campaign_id`), `ad_groups` (merged on
        `ad_group_id`, requested per clean campaign the run loads), `daily_reports` (merged on
        `report_date`, `campaign_id`) and `quarantined_records`, the records that break their
        contract in `settings`. `report_windows` only drives the report requests.
    """
    return checked_rest_api_resources(
        base_url=base_url,
        token=token,
        paginator={
            "type": "page_number",
            "base_page": 1,
            "page_param": "page",
            "total_path": "total_pages",
        },
        resource_defaults={
            "endpoint": {"data_selector": "results", "params": {"page_size": page_size}},
        },
        resources=[
            {
                "name": "campaigns",
                "primary_key": "campaign_id",
                "endpoint": {
                    "path": "campaigns",
                    "params": {
                        "updated_since": updated_since(
                            "updated_at",
                            initial_value=f"{initial_date.isoformat()}T00:00:00Z",
                            lag=lookback_seconds,
                        ),
                    },
                },
            },
            {
                "name": "ad_groups",
                "primary_key": "ad_group_id",
                "endpoint": {"path": "campaigns/{resources.campaigns.campaign_id}/ad_groups"},
            },
            *date_windowed(
                {
                    "name": "daily_reports",
                    "primary_key": ["report_date", "campaign_id"],
                    "endpoint": {"path": "reports/daily"},
                },
                windows_name="report_windows",
                date_field="report_date",
                initial_date=initial_date,
                lookback_days=report_lookback_days,
                max_days=settings.REPORT_WINDOW_DAYS,
            ),
        ],
        contracts={
            "campaigns": settings.CAMPAIGN_CONTRACT,
            "ad_groups": settings.AD_GROUP_CONTRACT,
            "daily_reports": settings.REPORT_CONTRACT,
        },
        loaded_rows=loaded_rows,
        column_hints={
            "campaigns": settings.CAMPAIGN_COLUMNS,
            "ad_groups": settings.AD_GROUP_COLUMNS,
            "daily_reports": settings.REPORT_COLUMNS,
        },
    )


def from_context(context: SourceContext) -> DltSource:
    """The ads source, configured by dlt (`sources.ads.*`)."""
    return ads(loaded_rows=context.loaded_rows if context.pipeline else None)
