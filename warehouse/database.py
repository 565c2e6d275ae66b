"""Opening the DuckDB warehouse file with errors a user can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError


def is_lock_error(error: BaseException) -> bool:
    """DuckDB allows one writing process per file; another process's lock shows up as this."""
    return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()


def locked_file_error(path: Path) -> WarehouseError:
    return WarehouseError(
        f"the warehouse file {path} is in use by another process (a load, a dbt run or an "
        "open DuckDB session)",
        hint="wait for that process to finish, or close it, then run the command again",
    )


# A read-only connection is read-only for every file, not only the warehouse: DuckDB reads and
# writes no other file (`copy`, `read_text`, `glob`, `export`, `attach`), installs and loads no
# extension, and a statement cannot switch any of this back on because the settings are locked.
READ_ONLY_CONFIG: dict[str, str | bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


@contextmanager
def connect(path: Path, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse that is always closed, so the file is free for the next.

    Read-only, it can read the warehouse's tables and nothing else (`READ_ONLY_CONFIG`).
    """
    if read_only and not path.exists():
        raise WarehouseError(
            f"there is no warehouse at {path} yet", hint="run `warehouse demo` to build one"
        )
    try:
        connection = duckdb.connect(
            str(path), read_only=read_only, config=READ_ONLY_CONFIG if read_only else {}
        )
    except duckdb.IOException as error:
        if is_lock_error(error):
            raise locked_file_error(path) from error
        raise WarehouseError(f"cannot open {path}: {error}") from error
    try:
        yield connection
    finally:
        connection.close()


def ensure_writable(path: Path) -> None:
    """Fail early, with the clear message, when another process holds the warehouse file."""
    if path.exists():
        with connect(path, read_only=False):
            pass


# What `warehouse query` runs: statements that only read. `describe`, `show`, `summarize`,
# `values` and `from ...` parse as SELECT; `explain` as EXPLAIN.
QUERY_STATEMENT_TYPES = frozenset({"SELECT", "EXPLAIN"})
QUERY_HINT = (
    "`warehouse query` runs one select, with, from, describe, show, summarize or explain "
    "statement on the warehouse's tables, with no access to other files, extensions or settings"
)


def run_query(
    connection: duckdb.DuckDBPyConnection, sql: str, limit: int
) -> tuple[list[str], list[tuple]]:
    """Run one read-only statement and return its column names and at most `limit` rows.

    SQL with several statements, or with a statement that is not a query, is refused before
    anything runs; DuckDB's own errors come back as one line.
    """
    try:
        statements = connection.extract_statements(sql)
        types = [statement.type.name for statement in statements]
    except duckdb.Error as error:
        raise WarehouseError(first_line(error), hint=QUERY_HINT) from error
    except ValueError as error:
        # The Python binding does not know every type DuckDB parses (`update extensions`).
        raise WarehouseError("this statement is not a query", hint=QUERY_HINT) from error
    if not statements:
        raise WarehouseError("there is no SQL statement to run", hint=QUERY_HINT)
    if len(statements) > 1:
        raise WarehouseError(
            f"warehouse query runs one statement at a time; this SQL holds {len(statements)}",
            hint="run them one by one",
        )
    [statement_type] = types
    if statement_type not in QUERY_STATEMENT_TYPES:
        raise WarehouseError(
            f"{statement_type} statements are not queries: warehouse query only reads",
            hint=QUERY_HINT,
        )
    try:
        cursor = connection.execute(sql)
        columns = [column[0] for column in cursor.description or []]
        return columns, cursor.fetchmany(limit)
    except duckdb.Error as error:
        hint = QUERY_HINT if isinstance(error, duckdb.PermissionException) else None
        raise WarehouseError(first_line(error), hint=hint) from error


def first_line(error: BaseException) -> str:
    """DuckDB's message without the caret drawing and context lines below it."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
