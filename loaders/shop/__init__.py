"""dlt source for the shop's operational database, read with dlt's `sql_database` tables."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import sqlalchemy as sa
from dlt.common.schema.typing import TWriteDisposition
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


def check_hard_deleting_tables_keep_their_rows(
    credentials: str, loaded_rows: Callable[[str], int | None], max_shrink_share: float
) -> None:
    """Refuse a read in which a table the shop deletes from lost more than `max_shrink_share`.

    The warehouse keeps only the keys such a table still has (`delete_erased_rows`, or a full
    `replace` in the lake), so one empty or partial read (a restore in progress, a wrong
    database) would drop its rows from the warehouse and, for customers, mark every missing
    customer erased. The source is counted before anything is extracted, so a refused read
    loads nothing of the shop. `loaded_rows(table)` gives the rows the destination holds now,
    None before its first load.
    """
    if not 0 <= max_shrink_share <= 1:
        raise LoaderError(
            f"sources.shop.max_shrink_share is {max_shrink_share}: set a share between 0 and 1 "
            "(0.5 stops a load that would drop more than half of a table; 1 accepts any shrink)"
        )
    hard_deleting = [table.name for table in settings.TABLES if table.hard_deletes]
    source_rows = _source_row_counts(credentials, hard_deleting)
    shrinks = []
    for table in hard_deleting:
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


def _reads_in_full(table: settings.ShopTable, replace_hard_deleting_tables: bool) -> bool:
    """Whether `table` is read whole and replaced: it has no cursor, or the shop deletes
    from it and the destination cannot delete rows (the lake)."""
    return table.cursor is None or (table.hard_deletes and replace_hard_deleting_tables)


def _write_disposition(
    table: settings.ShopTable,
    loaded_rows: Callable[[str], int | None] | None,
    replace_hard_deleting_tables: bool,
) -> str:
    """`replace` for a table read in full; for an incremental table `merge` on the key, or
    `append` while the destination holds none of its rows (`merge_after_first_load`)."""
    if _reads_in_full(table, replace_hard_deleting_tables):
        return "replace"
    return merge_after_first_load(table.name, loaded_rows)


def _source_keys(credentials: str, table: settings.ShopTable) -> list[Any]:
    """Every key `table` holds in the shop now: one column, however large the table."""
    engine = sa.create_engine(credentials)
    try:
        with engine.connect() as connection:
            query = sa.select(sa.column(table.primary_key)).select_from(sa.table(table.name))
            statement = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            # the driver's own cursor: SQLAlchemy's row objects took twice as long for
            # a year's customers
            cursor = connection.connection.cursor()
            try:
                cursor.execute(statement)
                return [key for (key,) in cursor.fetchall()]
            finally:
                cursor.close()
    finally:
        engine.dispose()


def _keys_missing_from_warehouse(
    credentials: str,
    table: settings.ShopTable,
    loaded_keys: Callable[[str, str], list[Any] | None],
) -> set[Any]:
    """The keys `table` has in the shop and not in the warehouse; none before its first load."""
    held = loaded_keys(table.name, table.primary_key)
    if held is None:
        return set()
    return set(_source_keys(credentials, table)).difference(held)


def _missing_rows(
    credentials: str,
    table: settings.ShopTable,
    missing_keys: set[Any],
    chunk_size: int,
    quarantine_disposition: TWriteDisposition,
) -> DltResource:
    """The rows of `table` whose keys the warehouse lacks, merged into it on the key.

    These are the day's new rows, which the incremental read brings too (the merge keeps one),
    and rows the incremental window cannot see: rows back in the shop with an old `updated_at`
    after the warehouse deleted them (a restored backup after an accepted empty read). Up to
    `settings.RESTORE_BY_KEY_LIMIT` keys are read by key, more by reading the table whole. A
    row the contract quarantines stays missing, so it is read again on every load and lands in
    `quarantined_records` once (its quarantine id does not change).
    """
    key = table.primary_key
    keys = sorted(missing_keys)

    def by_key(query: Any, sa_table: sa.Table) -> Any:
        return query.where(sa_table.c[key].in_(keys))

    resource = _checked_table(
        credentials,
        table,
        chunk_size,
        quarantine_disposition,
        write_disposition="merge",
        query_adapter_callback=by_key if len(keys) <= settings.RESTORE_BY_KEY_LIMIT else None,
    ).with_name(f"{table.name}_missing_from_warehouse")
    resource.apply_hints(table_name=table.name)
    return resource


def _checked_table(
    credentials: str,
    table: settings.ShopTable,
    chunk_size: int,
    quarantine_disposition: TWriteDisposition,
    **read: Any,
) -> DltResource:
    """dlt's `sql_table` reading `table` in pyarrow chunks, its text timestamps parsed to UTC
    and its rows checked against its contract (`_contract_check`, quarantined rows going to
    `quarantined_records`); `read` are further `sql_table` arguments (write disposition,
    incremental, query adapter)."""
    resource = sql_table(
        credentials=credentials,
        table=table.name,
        backend="pyarrow",
        chunk_size=chunk_size,
        primary_key=table.primary_key,
        table_adapter_callback=_text_timestamps_as_iso,
        type_adapter_callback=_reflect_iso_text_as_text,
        **read,
    )
    register_quarantine_table(resource, quarantine_disposition)
    resource.add_yield_map(_contract_check(table))
    return resource


def delete_erased_rows(context: SourceContext) -> None:
    """Delete the warehouse's rows of each table the shop deletes from (`hard_deletes`) whose
    key the shop no longer has: an erased customer and their addresses.

    Runs after each load of the shop. The keys are read after the load's rows, so a row
    deleted in between is deleted now, and one created in between (not loaded yet) has nothing
    to delete. A run killed before this step leaves rows the next run deletes, since every run
    compares all the keys. The shrink guard (`check_hard_deleting_tables_keep_their_rows`)
    ran before the load. The lake replaces these tables whole instead (`_reads_in_full`).
    """
    pipeline = context.pipeline
    if pipeline is None or context.lands_files:
        return
    credentials = _credentials(context)
    for table in settings.TABLES:
        if not table.hard_deletes or context.loaded_rows(table.name) is None:
            continue
        keys = _source_keys(credentials, table)
        with pipeline.sql_client() as client:
            qualified = client.make_qualified_table_name(table.name)
            key = client.escape_column_name(table.primary_key)
            # an anti-join: PostgreSQL's `not in` over a list larger than work_mem compares
            # every row with every key
            client.execute_sql(
                f"delete from {qualified} where not exists ("
                f"select 1 from (select unnest(%s) as kept_key) as shop_keys "
                f"where shop_keys.kept_key = {qualified}.{key})",
                keys,
            )


@dlt.source(name="shop", schema_contract=SCHEMA_CONTRACT)
def shop(
    credentials: str = dlt.secrets.value,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    chunk_size: int = settings.CHUNK_SIZE,
    max_shrink_share: float = settings.MAX_SHRINK_SHARE,
    loaded_rows: Callable[[str], int | None] | None = None,
    replace_hard_deleting_tables: bool = False,
    loaded_keys: Callable[[str, str], list[Any] | None] | None = None,
) -> list[DltResource]:
    """Every table of `settings.TABLES` from the shop database at SQLAlchemy URL `credentials`.

    Args:
        credentials: SQLAlchemy URL of the shop database (secret `sources.shop.credentials`).
        lookback_seconds: How far before the last cursor value incremental tables re-read.
        chunk_size: Rows per chunk read from the database.
        max_shrink_share: The largest share of its rows a table the shop deletes from may
            lose from one load to the next (config `sources.shop.max_shrink_share`); 1 accepts
            any.
        loaded_rows: The rows a table holds in the destination now (None before its first
            load); without it the shrink check is skipped and incremental tables always merge.
        replace_hard_deleting_tables: Read the tables the shop deletes from (`customers`,
            `addresses`) whole and replace them, for a destination that cannot delete rows
            (the lake); elsewhere they load incrementally and `delete_erased_rows` runs after
            the load.
        loaded_keys: The keys a table holds in the destination now (None before its first
            load): rows of a table the shop deletes from whose keys the warehouse lacks are
            read by key as well (`_missing_rows`), so a restored row comes back.

    Returns:
        One resource per table of `settings.TABLES` (`orders`, `order_lines`, ...), read in
        chunks of pyarrow rows with text timestamps parsed to UTC: incremental tables merged on
        their key from the last cursor value less `lookback_seconds` (appended while the
        destination holds none of their rows, see `_write_disposition`); and
        `quarantined_records`, the rows breaking their table's `RecordContract`, keyed
        `<table>:<key>=<value>`.

    Raises:
        LoaderError: before anything is read, when the database cannot be opened, lacks a
            table, or a table the shop deletes from would shrink by more than
            `max_shrink_share`.
    """
    check_database(credentials)
    if loaded_rows is not None:
        check_hard_deleting_tables_keep_their_rows(credentials, loaded_rows, max_shrink_share)
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
            if not _reads_in_full(table, replace_hard_deleting_tables)
            else None
        )
        resource = _checked_table(
            credentials,
            table,
            chunk_size,
            quarantine_disposition,
            incremental=incremental,
            write_disposition=_write_disposition(table, loaded_rows, replace_hard_deleting_tables),
        )
        resources.append(resource)
        if table.hard_deletes and not replace_hard_deleting_tables and loaded_keys is not None:
            missing = _keys_missing_from_warehouse(credentials, table, loaded_keys)
            if missing:
                # merged even into an emptied table: the two reads share the day's new rows
                resource.apply_hints(write_disposition="merge")
                resources.append(
                    _missing_rows(credentials, table, missing, chunk_size, quarantine_disposition)
                )
    resources.append(quarantine_table_resource(write_disposition=quarantine_disposition))
    return resources


def _credentials(context: SourceContext) -> str:
    """`sources.shop.credentials`, else the simulator's SQLite file."""
    return dlt.secrets.get("sources.shop.credentials") or (
        f"sqlite:///{context.sources_dir / settings.DEFAULT_DATABASE_FILE}"
    )


def from_context(context: SourceContext) -> DltSource:
    """The shop source over `sources.shop.credentials`, else the simulator's SQLite file."""
    # --allow-shrink: any shrink of a table the shop deletes from is accepted for this run
    accept_any_shrink = {"max_shrink_share": 1.0} if context.allow_shrink else {}
    return shop(
        credentials=_credentials(context),
        loaded_rows=context.loaded_rows if context.pipeline else None,
        replace_hard_deleting_tables=context.lands_files,
        loaded_keys=context.loaded_keys if context.pipeline else None,
        **accept_any_shrink,
    )
