"""What one source load did, collected while dlt extracts it.

Sources run inside `load()`, which installs a fresh `RunStats` in a context variable; the
resources record files read, quarantined records and unreadable files into it. Outside
`load()` (a source run directly with `pipeline.run`) nothing is recorded.
"""

from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RunStats:
    """Counters one source load accumulates while it extracts."""

    files_read: list[str] = field(default_factory=list)
    quarantined: Counter[tuple[str, str]] = field(default_factory=Counter)
    file_errors: list[str] = field(default_factory=list)


_current_stats: ContextVar[RunStats | None] = ContextVar("larkspur_run_stats", default=None)


def start_stats() -> RunStats:
    """Install and return a fresh `RunStats` for the source about to load."""
    stats = RunStats()
    _current_stats.set(stats)
    return stats


def record_file_read(location: str) -> None:
    """Note a file that was read completely."""
    if (stats := _current_stats.get()) is not None:
        stats.files_read.append(location)


def record_file_error(message: str) -> None:
    """Note a file that could not be read; the load goes on with the other files."""
    if (stats := _current_stats.get()) is not None:
        stats.file_errors.append(message)


def record_quarantined(source_table: str, reason: str, count: int) -> None:
    """Add `count` quarantined records of `source_table` for `reason`."""
    if (stats := _current_stats.get()) is not None and count:
        stats.quarantined[(source_table, reason)] += count
