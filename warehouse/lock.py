"""One writing command at a time per warehouse: an advisory lock in the data folder.

`warehouse load`, `build`, `docs`, `demo` and `simulate` write the warehouse or its sources; two of
them at once fail deep inside dlt or dbt (DuckDB allows one writing process per file) with pages
of tracebacks, or, worse, both succeed and interleave (two loads of one source). Each of them holds
`<data dir>/.warehouse.lock` while it runs, and a second one stops at once with one line naming
the first: ``the warehouse is busy: warehouse load since 2025-01-03 09:12:44 UTC, pid 4242``.

The lock is `flock(2)` on that file: the kernel releases it when its holder exits in any way,
SIGKILL and a crash included, so a dead command never leaves a stale lock behind and nobody has to
delete the file. The file also records who holds the lock (JSON: command, started_at, pid), which
is what the busy message and the read-only commands' message quote. The same lock serves the
PostgreSQL target: its loads and builds also belong to one data folder (pipelines, dbt state).

Read-only commands (`query`, `status`) do not take it; when DuckDB refuses them the file because
a writer has it open, `explain_busy` turns that into the same one line.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from warehouse.errors import WarehouseError

LOCK_FILE_NAME = ".warehouse.lock"


class WarehouseBusy(WarehouseError):
    """Another command holds the warehouse; the message names it."""


def lock_file(data_dir: Path) -> Path:
    return data_dir / LOCK_FILE_NAME


@contextmanager
def warehouse_lock(data_dir: Path, command: str) -> Iterator[None]:
    """Hold the data folder's lock for `command` (e.g. "warehouse load"), or raise WarehouseBusy.

    The folder must exist (the CLI checks it first).
    """
    path = lock_file(data_dir)
    try:
        # "a+" neither truncates nor fails when the file exists: the holder's record must stay
        # readable until this process owns the lock.
        handle = path.open("a+", encoding="utf-8")
    except OSError as error:
        raise unusable_folder(data_dir, error) from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusy(busy_message(data_dir)) from None
        record_holder(handle, command)
        try:
            yield
        finally:
            # the record goes first, so that nobody reads a finished command as the holder
            handle.truncate(0)
        # closing the file releases the lock


def record_holder(handle: IO[str], command: str) -> None:
    holder = {
        "command": command,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pid": os.getpid(),
    }
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(holder))
    handle.flush()


def busy_message(data_dir: Path) -> str:
    """The one line saying which command holds the warehouse, as its lock file records it."""
    holder = recorded_holder(data_dir)
    if holder is None:
        # the holder is between taking the lock and writing its record, or it is no warehouse
        # command (a notebook, a DuckDB shell) that has the file open
        return (
            "the warehouse is busy: another process has it open (a warehouse command, a "
            "notebook or a DuckDB shell)"
        )
    command, started_at, pid = holder
    return f"the warehouse is busy: {command} since {started_at:%Y-%m-%d %H:%M:%S} UTC, pid {pid}"


def recorded_holder(data_dir: Path) -> tuple[str, datetime, int] | None:
    """Command, start and pid of the lock's holder, if its record names a live process.

    Read without taking the lock (a probe would make a writer starting at that instant report
    the warehouse busy); a command killed with SIGKILL leaves its record, whose pid has exited.
    """
    try:
        record = json.loads(lock_file(data_dir).read_text(encoding="utf-8"))
        holder = (
            str(record["command"]),
            datetime.fromisoformat(record["started_at"]).astimezone(UTC),
            int(record["pid"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(holder[2], 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return holder


@contextmanager
def explain_busy(data_dir: Path) -> Iterator[None]:
    """For read-only commands: a warehouse file held by a writing command is named as busy."""
    from warehouse.database import is_lock_error

    try:
        yield
    except WarehouseError as error:
        if is_lock_error(error.__cause__) and recorded_holder(data_dir):
            raise WarehouseBusy(busy_message(data_dir)) from error
        raise


def unusable_folder(data_dir: Path, error: OSError) -> WarehouseError:
    return WarehouseError(
        f"cannot write in the data folder {data_dir} ({error.strerror or error})",
        hint="choose another with --data-dir or WAREHOUSE_DATA_DIR",
    )
