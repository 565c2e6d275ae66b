"""An Airflow of its own for the orchestration tests: a temporary AIRFLOW_HOME with a migrated
SQLite database, the DAG's dbt manifest, and a data folder the DAG works in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from warehouse.orchestration import DUCKDB_POOL, prepare_manifest
from warehouse.settings import PROJECT_DIR, resolve_paths


@dataclass(frozen=True)
class AirflowInstance:
    """A temporary Airflow home and the environment its commands and `dag.test()` run in."""

    home: Path
    manifest: Path
    environment: dict[str, str]

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


def airflow_environment(home: Path, data_dir: Path, manifest: Path) -> dict[str, str]:
    """What `warehouse airflow` sets too: telemetry off, this home and folder, no examples."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "orchestration" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SCARF_NO_ANALYTICS": "true",
        "DO_NOT_TRACK": "1",
        "WAREHOUSE_DATA_DIR": str(data_dir),
        "WAREHOUSE_DUCKDB_PATH": str(data_dir / "warehouse.duckdb"),
        "LARKSPUR_DBT_MANIFEST": str(manifest),
        "LARKSPUR_LOAD_RETRY_DELAY": "1",
    }


@pytest.fixture(scope="session")
def airflow_instance(tmp_path_factory: pytest.TempPathFactory) -> AirflowInstance:
    home = tmp_path_factory.mktemp("airflow_home")
    data_dir = tmp_path_factory.mktemp("airflow_data")
    manifest = prepare_manifest(resolve_paths(data_dir))
    environment = airflow_environment(home, data_dir, manifest)
    migrated = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    pool = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "pools", "set", DUCKDB_POOL, "1", "DuckDB"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert pool.returncode == 0, pool.stderr[-3000:]
    return AirflowInstance(home=home, manifest=manifest, environment=environment)
