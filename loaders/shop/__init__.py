"""dlt source for the shop's operational database, read with dlt's `sql_database` tables."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import sqlalchemy as sa
from dlt.extract import DltResource, DltSource
from dlt.sources.sql_database import sql_table

from loaders.contracts import SCHEMA_CONTRACT
from loaders.dispositions import merge_after_first_load
from loaders.errors import LoaderError
from loaders.quarantine import (
    QUARANTINE_TABLE,
    quarantine_table_as_rows,
    quarantine_table_resource,
    register_quarantine_table,
)
from loaders.registry import SourceContext
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


def _database_name(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=True)


def check_database(credentials: str) -> None:
    """Fail with a clear message when the shop database cannot be opened or lacks a table."""
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
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            missing = [
                table.name for table in settings.TABLES if not inspector.has_table(table.name)
            ]
    except sa.exc.SQLAlchemyError as error:
        message = " ".join(str(error).split("\n")[0].split())
        raise LoaderError(
            f"cannot connect to the shop database {_database_name(url)}: "
            f"{message}; check that it runs and that sources.shop.credentials is right"
        ) from error
    finally:
        engine.dispose()
    if missing:
        tables = f"table {missing[0]}" if len(missing) == 1 else f"tables {', '.join(missing)}"
        raise LoaderError(
            f"the shop database {_database_name(url)} has no {tables}: restore it, or set "
            "sources.shop.credentials to the shop's database"
        )


def _source_row_counts(credentials: str, tables: list[str]) -> dict[str, int]:
    engine = sa.create_engine(credentials)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(
                    sa.select(sa.func.count()).select_from(sa.table(table))
                ).scalar_one()
                for table in tables
            }
    finally:
        engine.dispose()


def check_replaced_tables_keep_their_rows(
    credentials: str, loaded_rows: Callable[[str], int | None], max_shrink_share: float
) -> None:
    """Refuse a read in which a table loaded with `replace` lost more than `max_shrink_share`.

    A replaced table holds only what the last read returned, so one empty or partial read
    (a restore in progress, a wrong database) would drop its rows from the warehouse and, for
    customers, mark every missing customer erased. The source is counted before anything is
    extracted, so a refused read loads nothing of the shop. `loaded_rows(table)` gives the
    rows the destination holds now, None before its first load.
    """
    if not 0 <= max_shrink_share <= 1:
        raise LoaderError(
            f"sources.shop.max_shrink_share is {max_shrink_share}: set a share between 0 and 1 "
            "(0.5 stops a load that would drop more than half of a table; 1 accepts any shrink)"
        )
    replaced = [table.name for table in settings.TABLES if table.cursor is None]
    source_rows = _source_row_counts(credentials, replaced)
    shrinks = []
    for table in replaced:
        loaded = loaded_rows(table)
        new = source_rows[table]
        if loaded and (loaded - new) / loaded > max_shrink_share:
            drop = round(100 * (loaded - new) / loaded)
            shrinks.append(f"shop.{table} would shrink from {loaded} to {new} rows (-{drop} %)")
    if shrinks:
        raise LoaderError(
            f"{' and '.join(shrinks)}: check the source; to accept, run `warehouse load shop "
            "--allow-shrink` or set sources.shop.max_shrink_share "
            f"(now {max_shrink_share:g}; 1 accepts any shrink)"
        )


def _write_disposition(
    table: settings.ShopTable, loaded_rows: Callable[[str], int | None] | None
) -> str:
    """`replace` for a table read in full; for an incremental table `merge` on the key, or
    `append` while the destination holds none of its rows (`merge_after_first_load`)."""
    if table.cursor is None:
        return "replace"
    return merge_after_first_load(table.name, loaded_rows)


@dlt.source(name="shop", schema_contract=SCHEMA_CONTRACT)
def shop(
    credentials: str = dlt.secrets.value,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    chunk_size: int = settings.CHUNK_SIZE,
    max_shrink_share: float = settings.MAX_SHRINK_SHARE,
    loaded_rows: Callable[[str], int | None] | None = None,
) -> list[DltResource]:
    """Every table of `settings.TABLES` from the shop database at SQLAlchemy URL `credentials`.

    Args:
        credentials: SQLAlchemy URL of the shop database (secret `sources.shop.credentials`).
        lookback_seconds: How far before the last cursor value incremental tables re-read.
        chunk_size: Rows per chunk read from the database.
        max_shrink_share: The largest share of its rows a table loaded with `replace` may lose
            from one load to the next (config `sources.shop.max_shrink_share`); 1 accepts any.
        loaded_rows: The rows a table holds in the destination now (None before its first
            load); without it the shrink check is skipped and incremental tables always merge.

    Returns:
        One resource per table of `settings.TABLES` (`orders`, `order_lines`, ...), read in
        chunks of pyarrow rows with text timestamps parsed to UTC: incremental tables merged on
        their key from the last cursor value less `lookback_seconds` (appended while the
        destination holds none of their rows, see `_write_disposition`), `customers` and
        `addresses` replaced in full; and `quarantined_records`, the rows breaking their
        table's `RecordContract`, keyed `<table>:<key>=<value>`.

    Raises:
        LoaderError: before anything is read, when the database cannot be opened, lacks a
            table, or a replaced table would shrink by more than `max_shrink_share`.
    """
    check_database(credentials)
    if loaded_rows is not None:
        check_replaced_tables_keep_their_rows(credentials, loaded_rows, max_shrink_share)
    quarantine_disposition = merge_after_first_load(QUARANTINE_TABLE, loaded_rows)
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
            write_disposition=_write_disposition(table, loaded_rows),
            table_adapter_callback=_text_timestamps_as_iso,
            type_adapter_callback=_reflect_iso_text_as_text,
        )
        register_quarantine_table(resource, quarantine_disposition)
        resource.add_yield_map(_contract_check(table))
        resources.append(resource)
    resources.append(quarantine_table_resource(write_disposition=quarantine_disposition))
    return resources


def from_context(context: SourceContext) -> DltSource:
    """The shop source over `sources.shop.credentials`, else the simulator's SQLite file."""
    credentials = dlt.secrets.get("sources.shop.credentials") or (
        f"sqlite:///{context.sources_dir / settings.DEFAULT_DATABASE_FILE}"
    )
    # --allow-shrink: any shrink of a replaced table is accepted for this run
    accept_any_shrink = {"max_shrink_share": 1.0} if context.allow_shrink else {}
    return shop(
        credentials=credentials,
        loaded_rows=context.loaded_rows if context.pipeline else None,
        **accept_any_shrink,
    )
