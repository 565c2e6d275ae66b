"""The Spark engine's tests: one local Spark Connect server for the whole session.

Skipped with one line where Java 17 or the spark dependency group is missing (`make test`
installs the group), failed instead on CI (`WAREHOUSE_REQUIRE_SERVICES=1`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loaders import LoadReport, load
from loaders.registry import api_source_names
from simulator import simulate
from simulator.api_server import ApiServer
from tests.conftest import services_required
from warehouse.errors import WarehouseError
from warehouse.settings import resolve_paths

# A few small days: every source lands rows, and a load takes seconds.
DAYS = 4
SCALE = 0.002


def require_spark() -> None:
    """Skip (fail on CI) when Spark cannot run here, saying why in one line."""
    from warehouse.spark import check_installed, check_java

    try:
        check_installed()
        check_java()
    except WarehouseError as error:
        if services_required():
            pytest.fail(f"{error}; CI requires it")
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def spark_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The session's local Spark Connect server (`warehouse.spark.SparkServer`), stopped at
    the end."""
    require_spark()
    from warehouse.spark import SparkServer

    data_dir = tmp_path_factory.mktemp("spark-server")
    server = SparkServer.launch(resolve_paths(data_dir, data_dir / "unused.duckdb"), "1g")
    try:
        server.remote  # noqa: B018 - waits until it answers
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark(spark_server: Any) -> Iterator[Any]:
    """A pyspark Connect session on the session's server."""
    from warehouse.spark import spark_session

    with spark_session(spark_server.remote) as session:
        yield session


@pytest.fixture(scope="session")
def simulated_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated company: a data folder whose `sources/` the tests copy."""
    data_dir = tmp_path_factory.mktemp("spark-simulated")
    simulate(data_dir, DAYS, scale=SCALE)
    return data_dir / "sources"


def data_folder(sources: Path, folder: Path) -> Path:
    """A data folder of its own holding a copy of `sources`."""
    shutil.copytree(sources, folder / "sources")
    return folder


def load_with_api(data_dir: Path, destination: str, monkeypatch: pytest.MonkeyPatch) -> LoadReport:
    """Every source into `destination`, the simulated APIs served for the load."""
    with ApiServer(data_dir, port=0) as server:
        for name in api_source_names():
            monkeypatch.setenv(f"SOURCES__{name.upper()}__BASE_URL", f"{server.base_url}/{name}/v1")
            monkeypatch.setenv(f"SOURCES__{name.upper()}__TOKEN", server.token)
        return load(data_dir=data_dir, destination=destination, duckdb_path=data_dir / "w.duckdb")


@pytest.fixture(autouse=True)
def own_engine_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's lake or cluster never takes part in a test."""
    for variable in ("WAREHOUSE_LAKE_URL", "WAREHOUSE_SPARK_REMOTE", "WAREHOUSE_DESTINATION"):
        monkeypatch.delenv(variable, raising=False)
