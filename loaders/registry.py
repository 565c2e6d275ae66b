"""The one list of Larkspur's sources: everything that needs a source's name reads it here.

`loaders.load` loads them in the order they are registered, `warehouse setup-postgres` gives
the loader role a ``raw_<name>`` schema for each, `warehouse load --local-api` and the
benchmarks serve the simulator's API to those with ``serves_api``. Adding a source is its
folder under ``loaders/``, its staging folder under ``models/staging/`` and one line below.

This module imports no dlt: the PostgreSQL setup and the CLI read the names without paying
for the loaders; a source's code is imported when it is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dlt
    from dlt.extract import DltSource


def lands_files(pipeline: dlt.Pipeline) -> bool:
    """Whether `pipeline` loads into the lake (dlt's filesystem destination), whose Parquet
    files cannot delete or update rows in place."""
    return bool(pipeline.destination.destination_type == "dlt.destinations.filesystem")


@dataclass(frozen=True)
class SourceContext:
    """What a source's factory may build it from: this run's data folder and pipeline."""

    sources_dir: Path
    # the pipeline loading the source; the shop asks it how many rows a table holds now
    pipeline: dlt.Pipeline | None = None
    # `warehouse load --allow-shrink`: any shrink of a table loaded in full is accepted once
    allow_shrink: bool = False

    def folder(self, name: str) -> str:
        """``sources.<name>.bucket_url`` from dlt's configuration, else ``<sources>/<name>``."""
        import dlt

        return dlt.config.get(f"sources.{name}.bucket_url") or str(self.sources_dir / name)

    @property
    def lands_files(self) -> bool:
        """Whether the pipeline loads into the lake (`lands_files`)."""
        return self.pipeline is not None and lands_files(self.pipeline)

    def loaded_rows(self, table: str) -> int | None:
        """Rows `table` holds in the pipeline's destination now; None before dlt created it."""
        from dlt.common.destination.exceptions import DestinationUndefinedEntity
        from dlt.destinations.exceptions import DatabaseUndefinedRelation

        pipeline = self.pipeline
        if pipeline is None:
            return None
        if not pipeline.default_schema_name or table not in pipeline.default_schema.tables:
            return None
        if self.lands_files:
            # In the lake a table is its files: one the schema knows but no load sent rows to
            # has none, and dlt's SQL view over it fails with an error of its own.
            with pipeline.destination_client() as lake:
                try:
                    if not lake.list_table_files(table):  # type: ignore[attr-defined]
                        return None
                except DestinationUndefinedEntity:  # not even its folder
                    return None
        try:
            with pipeline.sql_client() as client:
                query = f"select count(*) from {client.make_qualified_table_name(table)}"
                with client.execute_query(query) as cursor:
                    return int(cursor.fetchone()[0])
        # the state knows the table, the destination does not (a new or wiped warehouse)
        except DatabaseUndefinedRelation:
            return None

    def loaded_keys(self, table: str, key: str) -> list[Any] | None:
        """Every value of column `key` of `table` in the pipeline's destination; None before
        the table holds rows (or in the lake, whose tables the shop replaces whole)."""
        pipeline = self.pipeline
        if pipeline is None or self.lands_files or self.loaded_rows(table) is None:
            return None
        with pipeline.sql_client() as client:
            column = client.escape_column_name(key)
            query = f"select {column} from {client.make_qualified_table_name(table)}"
            with client.execute_query(query) as cursor:
                return [row[0] for row in cursor.fetchall()]


SourceFactory = Callable[[SourceContext], "DltSource"]
AfterLoad = Callable[[SourceContext], None]


def _imported(reference: str | Callable[..., Any]) -> Callable[..., Any]:
    """The function `reference` names as ``"module:function"``, imported now, or itself."""
    if not isinstance(reference, str):
        return reference
    module, _, function = reference.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return found


@dataclass(frozen=True)
class RegisteredSource:
    """One source: its name (also its dataset ``raw_<name>``) and how to build it.

    `factory` is a function taking a `SourceContext`, or ``"module:function"`` naming one,
    imported only when the source is built. `after_load`, given the same way, runs after each
    load of the source that did not fail (the shop deletes what it erased).
    """

    name: str
    factory: str | SourceFactory
    # served by the simulator's API server (`warehouse serve-api`, `load --local-api`)
    serves_api: bool = False
    after_load: str | AfterLoad | None = None

    def build(self, context: SourceContext) -> DltSource:
        """The dlt source, built from `context`."""
        source: DltSource = _imported(self.factory)(context)
        return source

    def finish_load(self, context: SourceContext) -> None:
        """Run the source's `after_load` step, if it has one, on the loaded `context`."""
        if self.after_load is not None:
            _imported(self.after_load)(context)


META_DATASET_NAME = "meta"
"""The loaders' own bookkeeping lands in ``raw_meta`` (`raw_meta.load_runs`), beside the sources."""

SOURCES: dict[str, RegisteredSource] = {}
"""Every source by name, in load order."""


def register(
    name: str,
    factory: str | SourceFactory,
    *,
    serves_api: bool = False,
    after_load: str | AfterLoad | None = None,
) -> None:
    """Add a source at the end of the load order."""
    if name in SOURCES:
        raise ValueError(f"the source {name!r} is registered twice")
    SOURCES[name] = RegisteredSource(name, factory, serves_api, after_load)


def source_names() -> tuple[str, ...]:
    """Every registered source's name, in load order."""
    return tuple(SOURCES)


def loader_datasets() -> tuple[str, ...]:
    """Every dataset the loaders write, ``raw_<name>`` in the warehouse: sources and meta."""
    return (*source_names(), META_DATASET_NAME)


def api_source_names() -> tuple[str, ...]:
    """The sources the simulator's API server serves, in load order."""
    return tuple(name for name, source in SOURCES.items() if source.serves_api)


register("shop", "loaders.shop:from_context", after_load="loaders.shop:delete_erased_rows")
register("payments", "loaders.payments:from_context", serves_api=True)
register("ads", "loaders.ads:from_context", serves_api=True)
register("fx", "loaders.fx:from_context", serves_api=True)
register("web", "loaders.web:from_context")
register("logistics", "loaders.logistics:from_context")
