"""An Airflow of its own for the orchestration tests: `warehouse airflow`'s, in a temporary data
folder (its AIRFLOW_HOME with a migrated SQLite database, the DAG's dbt manifest)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from warehouse.airflow_local import airflow_environment, airflow_home, prepare_airflow
from warehouse.orchestration import RETRY_DELAY_VARIABLE, manifest_path
from warehouse.settings import PROJECT_DIR, Paths, resolve_paths


@dataclass(frozen=True)
class AirflowInstance:
    """A temporary Airflow home and the environment its commands and `dag.test()` run in."""

    home: Path
    manifest: Path
    environment: dict[str, str]
    paths: Paths
    port: int

    def airflow(self, *arguments: str) -> str:
        """An `airflow` command with this Airflow home; its standard output."""
        completed = subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), *arguments],
            env=self.environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert completed.returncode == 0, (arguments, completed.stderr[-3000:])
        return completed.stdout

    def run_dag(self, *arguments: str, **overrides: str) -> dict:
        """`tests.orchestration.run_dag` in a subprocess with this Airflow: its JSON line."""
        completed = subprocess.run(
            [sys.executable, "-m", "tests.orchestration.run_dag", *arguments],
            cwd=PROJECT_DIR,
            env={**self.environment, **overrides},
            capture_output=True,
            text=True,
            check=False,
            timeout=1200,
        )
        lines = completed.stdout.strip().splitlines()
        if completed.returncode != 0 or not lines:
            pytest.fail(f"run_dag {arguments} failed:\n{completed.stderr[-4000:]}")
        return json.loads(lines[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def new_airflow_instance(data_dir: Path) -> AirflowInstance:
    """The Airflow `warehouse airflow` runs, in the data folder `data_dir`: the same environment,
    home (under the data folder), manifest, metadata database and pool, on a free port."""
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    port = free_port()
    environment = {
        **airflow_environment(paths, port),
        # a failed load's retries follow each other quickly here
        RETRY_DELAY_VARIABLE: "1",
    }
    prepare_airflow(paths, environment)
    return AirflowInstance(
        home=airflow_home(paths),
        manifest=manifest_path(paths),
        environment=environment,
        paths=paths,
        port=port,
    )


@pytest.fixture(scope="session")
def airflow_instance(tmp_path_factory: pytest.TempPathFactory) -> AirflowInstance:
    """An Airflow for the tests of the DAG's shape and backfills."""
    return new_airflow_instance(tmp_path_factory.mktemp("airflow_data"))
