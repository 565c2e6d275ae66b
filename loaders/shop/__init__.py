"""dlt source for the shop's operational database, read with dlt's `sql_database` tables."""

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import sqlalchemy as sa
from dlt.extract import DltResource
from dlt.sources.sql_database import sql_table

from loaders.contracts import SCHEMA_CONTRACT
from loaders.errors import LoaderError
from loaders.quarantine import quarantine_table_resource
from loaders.shop import settings


class _TextTimeConversionFilter(logging.Filter):
    """Hide dlt's warning that text timestamps needed its fallback parser: that is expected.

    The shop stores timestamps as ISO 8601 text with offsets; dlt's first conversion attempt
    fails on the offsets and its fallback (an Arrow cast) converts them to UTC correctly, but it
    warns once per chunk and table, which would drown the load's output.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not message.startswith(
            ("Default conversion to `timestamp", "Default conversion to `date32")
        )


_DLT_LOGGER = logging.getLogger("dlt")
if not any(isinstance(f, _TextTimeConversionFilter) for f in _DLT_LOGGER.filters):
    _DLT_LOGGER.addFilter(_TextTimeConversionFilter())


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


def _time_column_hints(columns: Any) -> dict[str, Any]:
    """Hints making dlt parse ISO text timestamps to UTC and date text to dates.

    Reflection sees TEXT columns; with these hints dlt's Arrow conversion parses the values
    (any offset) while the incremental cursor still compares the source's text in SQL.
    """
    hints: dict[str, Any] = {}
    for name in columns or {}:
        if name.endswith(settings.TIMESTAMP_SUFFIX):
            hints[name] = {"name": name, "data_type": "timestamp", "timezone": True}
        elif name in settings.DATE_COLUMNS:
            hints[name] = {"name": name, "data_type": "date"}
    return hints


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
            dlt.sources.incremental(table.cursor, lag=lookback_seconds) if table.cursor else None
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
        resource.apply_hints(columns=_time_column_hints(resource.columns))
        resources.append(resource)
    # no shop record is rejected today, but every raw dataset has the same quarantine table
    resources.append(quarantine_table_resource())
    return resources
