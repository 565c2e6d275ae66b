"""`warehouse airflow`: a local Apache Airflow that runs the DAG `larkspur_daily`, on 127.0.0.1.

Four processes, not `airflow standalone` (which binds its log servers to every interface): the
api-server (UI and REST API) with `-H 127.0.0.1`, the scheduler and the triggerer with
`--skip-serve-logs`, and the dag-processor. The triggerer resumes deferred tasks: Cosmos'
watchers of the tests that read two models defer until the build has reported them, so without
it a scheduled run never ends. Each starts through `warehouse.processes` in a process group of
its own and dies with this command (PR_SET_PDEATHSIG), so Ctrl-C, SIGTERM or even SIGKILL leave
nothing behind.

AIRFLOW_HOME is `<data folder>/airflow/home` with a SQLite metadata database; the scheduler's
LocalExecutor runs one task at a time there (SQLite has one writer), which the DuckDB warehouse
needs anyway. The DAG runs in demo mode: its first task advances the simulator to the run's day.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.errors import WarehouseError
from warehouse.orchestration import DUCKDB_POOL, SIMULATE_VARIABLE, prepare_manifest
from warehouse.processes import stop_process_group
from warehouse.settings import PROJECT_DIR, TELEMETRY_OFF, Paths

DAGS_FOLDER = PROJECT_DIR / "orchestration" / "dags"


def airflow_home(paths: Paths) -> Path:
    return paths.data_dir / "airflow" / "home"


def airflow_environment(paths: Paths, port: int) -> dict[str, str]:
    """The environment of every Airflow process: this home, the DAG folder, no telemetry."""
    home = airflow_home(paths)
    return {
        **os.environ,
        **TELEMETRY_OFF,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # SQLite takes one writer: one task at a time
        "AIRFLOW__CORE__PARALLELISM": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # a local, single-user Airflow: no login page
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SCARF_NO_ANALYTICS": "true",
        "WAREHOUSE_DATA_DIR": str(paths.data_dir),
        "WAREHOUSE_DUCKDB_PATH": str(paths.duckdb_path),
        SIMULATE_VARIABLE: os.environ.get(SIMULATE_VARIABLE, "1"),
    }


def airflow_executable() -> str:
    return str(Path(sys.executable).parent / "airflow")


def prepare_airflow(paths: Paths, environment: dict[str, str]) -> None:
    """The manifest the DAG renders from, the metadata database, and the DuckDB pool."""
    airflow_home(paths).mkdir(parents=True, exist_ok=True)
    prepare_manifest(paths)
    for command in (
        ["db", "migrate"],
        ["pools", "set", DUCKDB_POOL, "1", "DuckDB: one writer"],
    ):
        completed = subprocess.run(
            [airflow_executable(), *command],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            last = completed.stderr.strip().splitlines()[-1:] or ["no output"]
            raise WarehouseError(f"airflow {' '.join(command)} failed: {last[0]}")


@contextmanager
def local_airflow(paths: Paths, port: int, log_dir: Path) -> Iterator[list[subprocess.Popen]]:
    """Start the api-server, scheduler, triggerer and dag-processor; stop them all when the block
    ends."""
    environment = airflow_environment(paths, port)
    prepare_airflow(paths, environment)
    log_dir.mkdir(parents=True, exist_ok=True)
    commands = {
        "api-server": ["api-server", "-H", "127.0.0.1", "-p", str(port)],
        "scheduler": ["scheduler", "--skip-serve-logs"],
        "triggerer": ["triggerer", "--skip-serve-logs"],
        "dag-processor": ["dag-processor"],
    }
    processes: list[subprocess.Popen] = []
    try:
        for name, arguments in commands.items():
            with (log_dir / f"{name}.log").open("ab") as log:
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "warehouse.processes",
                            str(os.getpid()),
                            airflow_executable(),
                            *arguments,
                        ],
                        cwd=PROJECT_DIR,
                        env=environment,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        process_group=0,
                    )
                )
        yield processes
    finally:
        for process in reversed(processes):
            stop_process_group(process)


def wait_until_stopped(processes: list[subprocess.Popen]) -> None:
    """Block until Ctrl-C, or until one of the processes ends by itself (an error)."""
    while True:
        for process in processes:
            if process.poll() is not None:
                raise WarehouseError(
                    f"{' '.join(process.args[4:6])} stopped (exit code {process.returncode})",
                    hint="its log is in <data folder>/airflow/logs",
                )
        time.sleep(1)
