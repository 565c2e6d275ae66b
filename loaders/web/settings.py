"""Settings of the web analytics export (`sources/web/events_YYYY-MM-DD.jsonl.gz`).

Files are gzipped JSON lines, one file per export day. Every line is read as text; lines that
are not JSON objects are quarantined as `invalid_json` with file and line (lines over
`loaders.files.MAX_LINE_BYTES` as `line_too_long`), the others are checked against
`EVENT_CONTRACT`: an event without its id, type, time or visitor, or with an unparsable value,
is quarantined. An event of a type the export does not document is kept: it lands with its type
and staging flags it (var `source_codes` in dbt_project.yml). The documented fields
(`EVENT_FIELDS`) are always extracted; a field the export adds lands as a new text column
(nested values as JSON text), so nothing the export sends is dropped. Events are appended with
their file and line and replaced by file when a file is re-delivered; an event sent twice is two
raw rows and one row in staging (by `event_id`).
"""

from loaders.contracts import RecordContract

FILE_GLOB = "events_*.jsonl.gz"
LOCATION_PREFIX = "web/"
TABLE_NAME = "events"
PRIMARY_KEY = "event_id"

EVENT_FIELDS = (
    "event_id",
    "event_type",
    "occurred_at",
    "anonymous_id",
    "customer_id",
    "order_number",
    "product_id",
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "user_agent",
    "country_code",
)

EVENT_CONTRACT = RecordContract(
    required=("event_id", "event_type", "occurred_at", "anonymous_id"),
    timestamps=("occurred_at",),
    integers=("customer_id", "product_id"),
)
