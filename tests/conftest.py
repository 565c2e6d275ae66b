"""Fixtures shared by every test folder: telemetry off, service checks, one built warehouse."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass

import pytest

from warehouse.settings import TELEMETRY_OFF, Paths, resolve_paths

for _key, _value in TELEMETRY_OFF.items():
    os.environ.setdefault(_key, _value)

# Small enough that simulate -> load -> dbt build takes well under two minutes on 2 cores, large
# enough that every defect kind and the scheduled schema change occur.
E2E_DAYS = 50
E2E_SCALE = 0.005


def services_required() -> bool:
    """On CI the local services are part of the contract: missing ones fail instead of skip."""
    return os.environ.get("WAREHOUSE_REQUIRE_SERVICES") == "1"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (on a laptop) or fail (on CI) when a service does not answer on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as error:
        message = f"{name} is not reachable on {host}:{port} ({error})"
    if services_required():
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(f"{message}; start it to run these tests")


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse that `warehouse demo` simulated, loaded, built and documented."""

    paths: Paths
    returncode: int
    output: str


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """Run the real `warehouse demo` command once per session, in a throw-away data folder."""
    data_dir = tmp_path_factory.mktemp("warehouse")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    command = [
        sys.executable,
        "-m",
        "warehouse",
        "demo",
        "--days",
        str(E2E_DAYS),
        "--scale",
        str(E2E_SCALE),
        "--data-dir",
        str(data_dir),
    ]
    environment = {**os.environ, "WAREHOUSE_DUCKDB_PATH": str(paths.duckdb_path), "COLUMNS": "120"}
    completed = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False, timeout=900
    )
    return BuiltWarehouse(
        paths=paths, returncode=completed.returncode, output=completed.stdout + completed.stderr
    )
