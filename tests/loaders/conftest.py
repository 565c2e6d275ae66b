"""Fixtures of the loader tests: a small simulated company, its API server and loads of it."""

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loaders import LoadReport, load
from loaders.registry import api_source_names
from simulator import simulate
from simulator.api_server import ApiServer, FaultConfig

DAYS = 16
SCALE = 0.01
SCHEMA_CHANGE_DAY = 10
TOKEN = "demo-token"
API_SOURCES = api_source_names()

# quick retries: the fault-injecting server answers 429/503 with Retry-After: 1
FAST_RETRIES = {
    "RUNTIME__REQUEST_MAX_ATTEMPTS": "8",
    "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    "RUNTIME__REQUEST_MAX_RETRY_DELAY": "1",
    "RUNTIME__REQUEST_TIMEOUT": "5",
}


def api_environment(base_url: str) -> dict[str, str]:
    """Environment pointing the API sources at a server on `base_url`."""
    environment = dict(FAST_RETRIES)
    for name in API_SOURCES:
        environment[f"SOURCES__{name.upper()}__BASE_URL"] = f"{base_url}/{name}/v1"
        environment[f"SOURCES__{name.upper()}__TOKEN"] = TOKEN
    return environment


@pytest.fixture(scope="session")
def api_env() -> Iterator[pytest.MonkeyPatch]:
    """A session-wide monkeypatch for environment variables the fixtures set."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@dataclass
class Warehouse:
    """A simulated data folder, the report of loading it and access to its DuckDB file."""

    data_dir: Path
    report: LoadReport | None = None

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def ground_truth(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "sources" / "ground_truth.json").read_text())

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
            return con.execute(sql, parameters or []).fetchall()

    def scalar(self, sql: str, parameters: list[Any] | None = None) -> Any:
        return self.query(sql, parameters)[0][0]

    def count(self, table: str) -> int:
        return self.scalar(f"select count(*) from {table}")

    def load(self, sources: list[str] | None = None) -> LoadReport:
        self.report = load(sources, data_dir=self.data_dir)
        return self.report


def start_server(data_dir: Path, faults: FaultConfig | None = None) -> ApiServer:
    server = ApiServer(data_dir, token=TOKEN, faults=faults)
    server.start()
    return server


@pytest.fixture(scope="session")
def simulated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated sources, never loaded: copy them before loading (a load writes state)."""
    data_dir = tmp_path_factory.mktemp("simulated")
    simulate(data_dir, DAYS, scale=SCALE, schema_change_day=SCHEMA_CHANGE_DAY)
    return data_dir


def copy_sources(simulated_dir: Path, target: Path) -> Path:
    """A fresh data folder holding a copy of the simulated sources (files keep their mtimes)."""
    shutil.copytree(simulated_dir / "sources", target / "sources")
    return target


@pytest.fixture(scope="session")
def api_server(simulated_dir: Path, api_env: pytest.MonkeyPatch) -> Iterator[ApiServer]:
    """A fault-free API server over the simulated API state, wired into the environment."""
    server = start_server(simulated_dir)
    for key, value in api_environment(server.base_url).items():
        api_env.setenv(key, value)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def warehouse(
    simulated_dir: Path, api_server: ApiServer, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """Every source loaded once from the simulated company (read-only for the tests)."""
    data_dir = copy_sources(simulated_dir, tmp_path_factory.mktemp("loaded"))
    report = load(data_dir=data_dir)
    return Warehouse(data_dir, report)
