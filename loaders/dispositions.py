"""How a table keyed for `merge` loads: appended while the destination holds none of its rows.

A merge goes through a copy of the load in dlt's `_staging` dataset, then deletes and inserts
by key. On a table's first load (new, or empty in the destination) there is nothing to replace,
so appending lands the same rows without the round trip; later loads merge, so an update still
overwrites a row in place. The shop's incremental tables, the API sources' tables and every
source's `quarantined_records` load this way.

A first load holds each key once when its source sends each record once. A record the source
re-sends in the same read (an API record updated while its list is paged, so that it moves to
a later page) lands twice then; the owning ODS model keeps the latest, and the next load's
merge, which re-reads the record's lookback window, replaces both rows.
"""

from collections.abc import Callable

from dlt.common.schema.typing import TWriteDisposition

LoadedRows = Callable[[str], int | None]
"""The rows a table holds in the destination now; None before dlt created it
(`loaders.registry.SourceContext.loaded_rows`)."""


def merge_after_first_load(table: str, loaded_rows: LoadedRows | None) -> TWriteDisposition:
    """`append` while the destination holds none of `table`'s rows, `merge` after; `merge`
    always without `loaded_rows` (a source built outside a pipeline)."""
    if loaded_rows is not None and not loaded_rows(table):
        return "append"
    return "merge"
