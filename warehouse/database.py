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


@contextmanager
def connect(path: Path, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse that is always closed, so the file is free for the next."""
    if read_only and not path.exists():
        raise WarehouseError(
            f"there is no warehouse at {path} yet", hint="run `warehouse demo` to build one"
        )
    try:
        connection = duckdb.connect(str(path), read_only=read_only)
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
