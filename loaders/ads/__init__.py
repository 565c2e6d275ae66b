"""dlt source for the ads API, declared with dlt's `rest_api` source."""

from datetime import date

import dlt
from dlt.extract import DltResource
from dlt.sources.rest_api import rest_api_resources

from loaders.ads import settings
from loaders.contracts import SCHEMA_CONTRACT
from loaders.rest import (
    PageLocations,
    bearer_auth,
    contract_check,
    date_windows,
    parent_pages_without_quarantine,
    retrying_session,
    track_last_date,
    with_column_hints,
)


@dlt.source(name="ads", schema_contract=SCHEMA_CONTRACT)
def ads(
    base_url: str = settings.DEFAULT_BASE_URL,
    token: str = dlt.secrets.value,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    report_lookback_days: int = settings.REPORT_LOOKBACK_DAYS,
    initial_date: date = settings.INITIAL_DATE,
    page_size: int = settings.PAGE_SIZE,
) -> list[DltResource]:
    """Campaigns, their ad groups and daily campaign reports from the ads API at `base_url`."""
    pages = PageLocations()
    report_windows = date_windows(
        "report_windows",
        initial_date=initial_date,
        lookback_days=report_lookback_days,
        max_days=settings.REPORT_WINDOW_DAYS,
    )
    resources = rest_api_resources(
        {
            "client": {
                "base_url": base_url,
                "auth": bearer_auth(token),
                "session": retrying_session(),
                "paginator": {
                    "type": "page_number",
                    "base_page": 1,
                    "page_param": "page",
                    "total_path": "total_pages",
                },
            },
            "resource_defaults": {
                "write_disposition": "merge",
                "endpoint": {"data_selector": "results", "params": {"page_size": page_size}},
            },
            "resources": [
                {
                    "name": "campaigns",
                    "primary_key": "campaign_id",
                    "endpoint": {
                        "path": "campaigns",
                        "params": {
                            "updated_since": {
                                "type": "incremental",
                                "cursor_path": "updated_at",
                                "initial_value": f"{initial_date.isoformat()}T00:00:00Z",
                                "lag": lookback_seconds,
                                # quarantined records (no cursor) pass; clean ones have one
                                "on_cursor_value_missing": "include",
                            },
                        },
                        "response_actions": [pages.hook("campaigns")],
                    },
                },
                {
                    "name": "ad_groups",
                    "primary_key": "ad_group_id",
                    "endpoint": {
                        "path": "campaigns/{resources.campaigns.campaign_id}/ad_groups",
                        "response_actions": [pages.hook("ad_groups")],
                    },
                },
                report_windows,
                {
                    "name": "daily_reports",
                    "primary_key": ["report_date", "campaign_id"],
                    "endpoint": {
                        "path": "reports/daily",
                        "params": {
                            "start_date": "{resources.report_windows.start_date}",
                            "end_date": "{resources.report_windows.end_date}",
                        },
                        "response_actions": [pages.hook("daily_reports")],
                    },
                    "processing_steps": [
                        {"map": track_last_date("report_windows", "report_date")},
                    ],
                },
            ],
        }
    )
    checks = {
        "campaigns": (settings.CAMPAIGN_CONTRACT, "campaign_id"),
        "ad_groups": (settings.AD_GROUP_CONTRACT, "ad_group_id"),
        "daily_reports": (settings.REPORT_CONTRACT, None),
    }
    for resource in resources:
        if resource.name in checks:
            # after the processing steps: a check sees a whole page (see contract_check)
            resource.add_step(contract_check(resource.name, *checks[resource.name], pages))
        if resource.name == "ad_groups":
            # the child requests ad groups per campaign row: never for a quarantined campaign
            resource.add_yield_map(parent_pages_without_quarantine, insert_at=0)
    return with_column_hints(
        resources,
        {
            "campaigns": settings.CAMPAIGN_COLUMNS,
            "ad_groups": settings.AD_GROUP_COLUMNS,
            "daily_reports": settings.REPORT_COLUMNS,
        },
    )
