"""dlt source for the shop's operational database, read with dlt's `sql_database` tables."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import sqlalchemy as sa
from dlt.extract import DltResource
from dlt.sources.sql_database import sql_table

from loaders.contracts import SCHEMA_CONTRACT
from loaders.errors import LoaderError
from loaders.quarantine import (
    quarantine_table_as_rows,
    quarantine_table_resource,
    register_quarantine_table,
)
from loaders.shop import settings
from loaders.validation import split_records


class _IsoTimestampText(sa.types.TypeDecorator):  # type: ignore[type-arg]
    """A text column of ISO 8601 timestamps that compares with datetimes as UTC ISO text.

    dlt's incremental filter compares the cursor column with a datetime; a database that
    stores the timestamps as text (the simulated shop, on any engine) needs that datetime as
    text of the same shape, or PostgreSQL refuses `text >= timestamptz`.
    """

    impl = sa.types.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value


def _reflect_iso_text_as_text(sql_type: Any) -> Any:
    """Type adapter: dlt maps the column above like the text column it is."""
    return sa.types.Text() if isinstance(sql_type, _IsoTimestampText) else sql_type


def _text_timestamps_as_iso(table: sa.Table) -> sa.Table:
    """Table adapter: give text `*_at` columns the type above; real timestamp columns stay."""
    for column in table.columns:
        if column.name.endswith(settings.TIMESTAMP_SUFFIX) and isinstance(
            column.type, sa.types.String
        ):
            column.type = _IsoTimestampText()
    return table


def _text_time_columns(rows: pa.Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(timestamp columns, date columns) that arrive as text and must be parsed."""
    text = [
        f.name
        for f in rows.schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    timestamps = tuple(name for name in text if name.endswith(settings.TIMESTAMP_SUFFIX))
    dates = tuple(name for name in text if name in settings.DATE_COLUMNS)
    return timestamps, dates


def _time_column_hints(timestamps: tuple[str, ...], dates: tuple[str, ...]) -> dict[str, Any]:
    """Column hints of the parsed time columns: UTC timestamps and dates."""
    hints: dict[str, Any] = {
        name: {"name": name, "data_type": "timestamp", "timezone": True} for name in timestamps
    }
    hints.update({name: {"name": name, "data_type": "date"} for name in dates})
    return hints


def _contract_check(table: settings.ShopTable) -> Callable[[pa.Table], Iterator[Any]]:
    """A `yield_map` step splitting each chunk into clean rows and quarantined rows.

    dlt reads the text timestamps as text; this step parses them (any offset, to UTC) in DuckDB
    together with the contract checks, so one unparsable value quarantines its row instead of
    failing the table. It runs before the incremental step, which then sees UTC timestamps.
    """
    key = table.primary_key

    def check(rows: pa.Table) -> Iterator[Any]:
        timestamps, dates = _text_time_columns(rows)
        contract = replace(table.contract, timestamps=timestamps, dates=dates)
        numbered = rows.append_column(
            "_source_line", pa.array(range(1, rows.num_rows + 1), pa.int64())
        )
        clean, quarantined = split_records(
            numbered,
            source_table=table.name,
            contract=contract,
            location=table.name,
            location_sql=(f"'{table.name}:{key}=' || coalesce(cast(\"{key}\" as varchar), 'null')"),
            source_columns=False,
        )
        # keep the nullability dlt reflected, or it warns about every column
        nullable = pa.schema(
            [f.with_nullable(rows.schema.field(f.name).nullable) for f in clean.schema]
        )
        hints = dlt.mark.make_hints(columns=_time_column_hints(timestamps, dates))
        yield dlt.mark.with_hints(clean.cast(nullable), hints)
        if quarantined.num_rows:
            yield quarantine_table_as_rows(quarantined)

    return check


def check_database(credentials: str) -> None:
    """Fail with a clear message when the shop database cannot be opened."""
    url = sa.engine.make_url(credentials)
    is_sqlite_file = url.get_backend_name() == "sqlite" and bool(url.database)
    # SQLAlchemy would silently create an empty SQLite file instead of failing
    if is_sqlite_file and not Path(str(url.database)).is_file():
        raise LoaderError(
            f"shop database {url.database} does not exist: run `warehouse simulate` first "
            "or set sources.shop.credentials to the shop's SQLAlchemy URL"
        )
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as error:
        message = " ".join(str(error).split("\n")[0].split())
        raise LoaderError(
            f"cannot connect to the shop database {url.render_as_string(hide_password=True)}: "
            f"{message}; check that it runs and that sources.shop.credentials is right"
        ) from error
    finally:
        engine.dispose()


@dlt.source(name="shop", schema_contract=SCHEMA_CONTRACT)
def shop(
    credentials: str = dlt.secrets.value,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    chunk_size: int = settings.CHUNK_SIZE,
) -> list[DltResource]:
    """Every table of `settings.TABLES` from the shop database at SQLAlchemy URL `credentials`."""
    check_database(credentials)
    resources = []
    for table in settings.TABLES:
        incremental: Any = (
            dlt.sources.incremental(
                table.cursor,
                lag=lookback_seconds,
                # quarantined rows (JSON, no cursor) pass; clean rows always have one
                on_cursor_value_missing="include",
                # without a start value dlt's lag step fails on a batch without cursor values
                initial_value=settings.INITIAL_CURSOR,
            )
            if table.cursor
            else None
        )
        resource = sql_table(
            credentials=credentials,
            table=table.name,
            backend="pyarrow",
            chunk_size=chunk_size,
            incremental=incremental,
            primary_key=table.primary_key,
            write_disposition="merge" if table.cursor else "replace",
            table_adapter_callback=_text_timestamps_as_iso,
            type_adapter_callback=_reflect_iso_text_as_text,
        )
        register_quarantine_table(resource)
        resource.add_yield_map(_contract_check(table))
        resources.append(resource)
    resources.append(quarantine_table_resource())
    return resources
