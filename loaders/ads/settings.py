"""Settings of the ads API (an ad platform aggregator).

Page-number pagination (`page`, `page_size`, `total_pages`).

- `campaigns`: incremental on `updated_at` through `updated_since` (ISO timestamp) less a lookback;
  merged on `campaign_id`. Checked against `CAMPAIGN_CONTRACT`: a campaign without its key, name,
  platform, status or update time, or with an unparsable value, is quarantined. A status,
  platform or objective the platforms do not document is no breach: the campaign's spend is
  money, so it lands with the code kept and staging flags it (var `source_codes` in
  dbt_project.yml).
- `ad_groups`: a child of `campaigns` (`/campaigns/{campaign_id}/ad_groups`), read for every
  clean campaign the run loads (new or changed; never for a quarantined one), merged on
  `ad_group_id`.
- `daily_reports`: requested by date windows from the last loaded `report_date` less
  `REPORT_LOOKBACK_DAYS` (platforms restate the last 3 days) up to today, merged on
  (`report_date`, `campaign_id`), so restated days replace their earlier numbers.
"""

from datetime import date

from loaders.contracts import RecordContract

DEFAULT_BASE_URL = "http://127.0.0.1:8765/ads/v1"
PAGE_SIZE = 1000
LOOKBACK_SECONDS = 24 * 3600
REPORT_LOOKBACK_DAYS = 4
REPORT_WINDOW_DAYS = 366
INITIAL_DATE = date(2020, 1, 1)

CAMPAIGN_COLUMNS = {
    "campaign_id": {"data_type": "bigint"},
    "daily_budget": {"data_type": "decimal"},
    "start_date": {"data_type": "date"},
    "end_date": {"data_type": "date"},
    "updated_at": {"data_type": "timestamp"},
}
AD_GROUP_COLUMNS = {
    "ad_group_id": {"data_type": "bigint"},
    "campaign_id": {"data_type": "bigint"},
    "updated_at": {"data_type": "timestamp"},
}
REPORT_COLUMNS = {
    "report_date": {"data_type": "date"},
    "campaign_id": {"data_type": "bigint"},
    "impressions": {"data_type": "bigint"},
    "clicks": {"data_type": "bigint"},
    "spend": {"data_type": "decimal"},
    "platform_conversions": {"data_type": "bigint"},
}

CAMPAIGN_CONTRACT = RecordContract(
    required=("campaign_id", "campaign_name", "platform", "status", "updated_at"),
    integers=("campaign_id",),
    decimals=("daily_budget",),
    dates=("start_date", "end_date"),
    timestamps=("updated_at",),
)
AD_GROUP_CONTRACT = RecordContract(
    required=("ad_group_id", "campaign_id"),
    integers=("ad_group_id", "campaign_id"),
    timestamps=("updated_at",),
)
REPORT_CONTRACT = RecordContract(
    required=("report_date", "campaign_id", "impressions", "clicks", "spend"),
    integers=("campaign_id", "impressions", "clicks", "platform_conversions"),
    decimals=("spend",),
    dates=("report_date",),
)
