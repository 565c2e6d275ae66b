"""Where the project, its data and its warehouse live, and the environment every run gets.

One place decides the paths so that the CLI, the loaders, dbt and the tests agree on them:
`WAREHOUSE_DATA_DIR` (default `./data` in the project) holds the simulated source systems and
the DuckDB warehouse; `WAREHOUSE_DUCKDB_PATH` overrides the warehouse file alone;
`WAREHOUSE_DUCKDB_MEMORY_LIMIT` caps DuckDB's memory in loads and builds;
`WAREHOUSE_DESTINATION` (default duckdb) is where the loaders write. The Spark engine (`--target
spark`) reads three more: `WAREHOUSE_LAKE_URL` (default `<data>/lake`, any fsspec URL) is where
its loads land as Parquet, `WAREHOUSE_SPARK_REMOTE` (`sc://host:port`) is a Spark Connect server to
use instead of starting a local one, `WAREHOUSE_SPARK_DRIVER_MEMORY` (default 1g) the local
server's heap; dbt alone reads `WAREHOUSE_SPARK_SCHEMA` (profiles.yml, default main).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from warehouse.errors import WarehouseError

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Offline, dbt's anonymous tracking call stalls every command for ~30 s, and a private
# warehouse's runs are nobody else's business: switch off dbt's and dlt's telemetry everywhere.
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}

MEMORY_LIMIT_VARIABLE = "WAREHOUSE_DUCKDB_MEMORY_LIMIT"


def _profile_memory_limit() -> str:
    """The memory cap's default, written once in profiles.yml.

    dbt started directly (`.venv/bin/dbt build`) finds no variable and takes it from there; the
    CLI and the loaders take the same value from the same line.
    """
    profile = (PROJECT_DIR / "profiles.yml").read_text()
    found = re.search(rf"env_var\('{MEMORY_LIMIT_VARIABLE}', '([^']+)'\)", profile)
    if found is None:
        raise WarehouseError(
            f"profiles.yml has no default for {MEMORY_LIMIT_VARIABLE}",
            hint=f"write it as env_var('{MEMORY_LIMIT_VARIABLE}', '2GB') in the DuckDB settings",
        )
    return found.group(1)


DEFAULT_DUCKDB_MEMORY_LIMIT = _profile_memory_limit()
# A full build of a 30-day demo at scale 0.005 runs out of memory at 32MB and passes at 64MB.
MINIMUM_DUCKDB_MEMORY_LIMIT = "64MB"


DEFAULT_SPARK_DRIVER_MEMORY = "1g"


@dataclass(frozen=True)
class Paths:
    """The folders and files one warehouse instance uses."""

    data_dir: Path
    duckdb_path: Path
    # where `--destination spark` lands Parquet: a folder, or any URL fsspec and Spark can read
    lake_url: str = ""

    @property
    def spark_dir(self) -> Path:
        """The local Spark Connect server's metastore, table folder, logs and pid file."""
        return self.data_dir / "spark"

    @property
    def sources_dir(self) -> Path:
        return self.data_dir / "sources"

    @property
    def dbt_target_dir(self) -> Path:
        # Per data folder, so that two warehouses (a test's and yours) never share artefacts.
        return self.data_dir / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.data_dir / "dbt" / "logs"

    @property
    def docs_dir(self) -> Path:
        return self.data_dir / "docs"


def resolve_paths(data_dir: Path | None = None, duckdb_path: Path | None = None) -> Paths:
    """Paths from explicit arguments, then environment variables, then the project defaults."""
    data = data_dir or Path(os.environ.get("WAREHOUSE_DATA_DIR", PROJECT_DIR / "data"))
    data = data.expanduser().resolve()
    env_duckdb = os.environ.get("WAREHOUSE_DUCKDB_PATH")
    duckdb_file = duckdb_path or (Path(env_duckdb) if env_duckdb else data / "warehouse.duckdb")
    lake = os.environ.get("WAREHOUSE_LAKE_URL") or str(data / "lake")
    if "://" not in lake:
        lake = str(Path(lake).expanduser().resolve())
    return Paths(data_dir=data, duckdb_path=duckdb_file.expanduser().resolve(), lake_url=lake)


@dataclass(frozen=True)
class SparkSettings:
    """How the Spark engine is reached: a server of the user's, or one started locally."""

    # `sc://host:port` of a running Spark Connect server; None starts a local one
    remote: str | None
    # the local server's driver heap (`spark.driver.memory`)
    driver_memory: str


def spark_settings() -> SparkSettings:
    """`WAREHOUSE_SPARK_REMOTE` and `WAREHOUSE_SPARK_DRIVER_MEMORY`, read here only."""
    remote = os.environ.get("WAREHOUSE_SPARK_REMOTE") or None
    if remote is not None and not remote.startswith("sc://"):
        raise WarehouseError(
            f"WAREHOUSE_SPARK_REMOTE={remote!r} is not a Spark Connect address",
            hint="write it as sc://host:port (15002 is Spark Connect's usual port), or unset it "
            "to start a local server",
        )
    memory = os.environ.get("WAREHOUSE_SPARK_DRIVER_MEMORY") or DEFAULT_SPARK_DRIVER_MEMORY
    return SparkSettings(remote=remote, driver_memory=memory)


def destination_name(destination: str | None = None) -> str:
    """Where the loaders write: `destination`, else `WAREHOUSE_DESTINATION`, else duckdb."""
    return destination or os.environ.get("WAREHOUSE_DESTINATION") or "duckdb"


def apply_environment(paths: Paths) -> None:
    """Export telemetry switches, paths and the memory cap so that dlt and dbt (also in
    subprocesses) see them."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    # dlt reads .dlt/config.toml from the working directory unless told where the project is.
    os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_DIR))
    os.environ["WAREHOUSE_DATA_DIR"] = str(paths.data_dir)
    os.environ["WAREHOUSE_DUCKDB_PATH"] = str(paths.duckdb_path)
    os.environ[MEMORY_LIMIT_VARIABLE] = duckdb_memory_limit()


@contextmanager
def temporary_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block; dlt and dbt (also in subprocesses) read them."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def duckdb_memory_limit() -> str:
    """`WAREHOUSE_DUCKDB_MEMORY_LIMIT` (default 2GB), the cap for DuckDB in loads and dbt builds.

    Raises `WarehouseError` naming the variable when DuckDB cannot read the value as a size or
    it is below `MINIMUM_DUCKDB_MEMORY_LIMIT`, so that a run stops before it starts, not in
    the middle of dbt.
    """
    import duckdb

    limit = os.environ.get(MEMORY_LIMIT_VARIABLE) or DEFAULT_DUCKDB_MEMORY_LIMIT
    advice = (
        f"set it like {DEFAULT_DUCKDB_MEMORY_LIMIT} or 500MB (at least "
        f"{MINIMUM_DUCKDB_MEMORY_LIMIT}), or unset it for the default {DEFAULT_DUCKDB_MEMORY_LIMIT}"
    )
    with duckdb.connect() as probe:
        try:
            [(limit_bytes, minimum_bytes)] = probe.execute(
                "select parse_formatted_bytes(?), parse_formatted_bytes(?)",
                [limit, MINIMUM_DUCKDB_MEMORY_LIMIT],
            ).fetchall()
        except duckdb.Error as error:
            reason = str(error).strip().splitlines()[0].split(": ", 1)[-1]
            raise WarehouseError(
                f"{MEMORY_LIMIT_VARIABLE}={limit!r} is not a size DuckDB understands "
                f"({reason}): {advice}"
            ) from error
    if limit_bytes < minimum_bytes:
        raise WarehouseError(
            f"{MEMORY_LIMIT_VARIABLE}={limit!r} is below the {MINIMUM_DUCKDB_MEMORY_LIMIT} DuckDB "
            f"needs to load and build the warehouse: {advice}"
        )
    return limit
