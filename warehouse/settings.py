"""Where the project, its data and its warehouse live, and the environment every run gets.

One place decides the paths so that the CLI, the loaders, dbt and the tests agree on them:
`WAREHOUSE_DATA_DIR` (default `./data` in the project) holds the simulated source systems and
the DuckDB warehouse; `WAREHOUSE_DUCKDB_PATH` overrides the warehouse file alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Offline, dbt's anonymous tracking call stalls every command for ~30 s, and a private
# warehouse's runs are nobody else's business: switch off dbt's and dlt's telemetry everywhere.
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


@dataclass(frozen=True)
class Paths:
    """The folders and files one warehouse instance uses."""

    data_dir: Path
    duckdb_path: Path

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
    return Paths(data_dir=data, duckdb_path=duckdb_file.expanduser().resolve())


def apply_environment(paths: Paths) -> None:
    """Export telemetry switches and paths so that dlt and dbt (also in subprocesses) see them."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    # dlt reads .dlt/config.toml from the working directory unless told where the project is.
    os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_DIR))
    os.environ["WAREHOUSE_DATA_DIR"] = str(paths.data_dir)
    os.environ["WAREHOUSE_DUCKDB_PATH"] = str(paths.duckdb_path)


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
