"""Schema contracts shared by every source.

New tables and new columns may appear (a source adding `risk_score` is not an error), but a
column's data type is frozen once it exists: keys and amounts must never silently turn into
variant columns. Records that would break a type never reach dlt's contract check, because each
source validates them first and sends them to `quarantined_records` instead.
"""

from dataclasses import dataclass

from dlt.common.schema.typing import TSchemaContract

SCHEMA_CONTRACT: TSchemaContract = {
    "tables": "evolve",
    "columns": "evolve",
    "data_type": "freeze",
}


@dataclass(frozen=True)
class RecordContract:
    """What a clean record of one table must satisfy, and how its text fields are typed.

    Every check has a quarantine reason of the form `<check>:<column>`, for example
    `null_required_field:order_number` or `unparsable_timestamp:event_at`. Codes (statuses,
    types) are not checked here: a record with a code its source does not document is still
    real, so it lands and staging flags it (var `source_codes` in dbt_project.yml).
    """

    required: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    decimals: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
