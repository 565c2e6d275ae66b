"""The CLI's Spark server lives exactly as long as the command: it stops when the command ends,
is stopped or is killed, and with `WAREHOUSE_SPARK_REMOTE` none starts at all."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from tests.operations.conftest import (
    Commands,
    commands,  # noqa: F401 - the fixture, for the tests below
    lock_is_free,
    processes_mentioning,
    run_warehouse,
    wait_until,
)
from tests.spark.conftest import data_folder

pytestmark = pytest.mark.spark

# the web source reads files: a load needs no API server
LOAD = ("load", "web", "--destination", "spark")


def spark_processes(data_dir: Path) -> list[int]:
    """The Spark servers started for this data folder (their command line names its folder)."""
    return processes_mentioning(str(data_dir / "spark" / "metastore"))


@pytest.fixture
def lake_data_dir(simulated_sources: Path, tmp_path: Path, spark_server: Any) -> Path:
    """A data folder of its own; the session's server proves Spark can run here first."""
    return data_folder(simulated_sources, tmp_path / "data")


def test_load_registers_the_lake_and_stops_its_server(lake_data_dir: Path) -> None:
    completed = run_warehouse(*LOAD, "--data-dir", str(lake_data_dir), timeout=400)

    assert completed.returncode == 0, completed.stderr
    # raw_web and raw_meta (the run's log)
    assert re.search(r"Registered \d+ lake tables in 2 Spark schemas", completed.stdout)
    assert spark_processes(lake_data_dir) == []
    assert not (lake_data_dir / "spark" / "run" / "connect-server.pid").exists()
    # Derby wrote its log in the metastore's folder, not in the project
    assert (lake_data_dir / "spark" / "metastore" / "derby.log").exists()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_command_leaves_no_server(
    stop: signal.Signals,
    lake_data_dir: Path,
    commands: Commands,  # noqa: F811
) -> None:
    command = commands.start(*LOAD, "--data-dir", str(lake_data_dir))
    commands.watched_texts.append(str(lake_data_dir / "spark"))
    # the server, and while it starts the launcher processes of its scripts
    server = wait_until(lambda: spark_processes(lake_data_dir), 120, "the Spark server")

    os.kill(command.pid, stop)
    completed = command.wait(60)

    assert completed.returncode == (128 + stop if stop == signal.SIGTERM else -stop)
    if stop == signal.SIGTERM:
        assert completed.stderr_lines[-1].startswith("interrupted: warehouse load stopped by")
    # SIGKILL leaves the command no chance: Linux kills the server with it (PDEATHSIG)
    wait_until(lambda: not spark_processes(lake_data_dir), 30, f"server {server} to exit")
    assert lock_is_free(lake_data_dir)


def test_a_killed_command_leaves_nothing_that_stops_the_next(
    lake_data_dir: Path,
    commands: Commands,  # noqa: F811
) -> None:
    """No stale lock: neither the warehouse's nor the Derby metastore's."""
    command = commands.start(*LOAD, "--data-dir", str(lake_data_dir))
    commands.watched_texts.append(str(lake_data_dir / "spark"))
    wait_until(lambda: spark_processes(lake_data_dir), 120, "the Spark server")
    # the server opens its Derby metastore on the first query, which it gets while the
    # sources load
    wait_until(
        lambda: (lake_data_dir / "spark" / "metastore" / "metastore_db").exists(),
        120,
        "the metastore",
    )
    assert command.process.poll() is None, "the load ended before the test could kill it"
    os.kill(command.pid, signal.SIGKILL)
    command.wait(30)
    wait_until(lambda: not spark_processes(lake_data_dir), 30, "the server to exit")

    completed = run_warehouse(*LOAD, "--data-dir", str(lake_data_dir), timeout=400)
    assert completed.returncode == 0, completed.stderr
    assert "Registered" in completed.stdout


def test_a_remote_server_starts_nothing(lake_data_dir: Path, spark_server: Any, spark: Any) -> None:
    completed = run_warehouse(
        *LOAD,
        "--data-dir",
        str(lake_data_dir),
        timeout=400,
        WAREHOUSE_SPARK_REMOTE=spark_server.remote,
    )

    assert completed.returncode == 0, completed.stderr
    assert not (lake_data_dir / "spark").exists()
    assert spark_processes(lake_data_dir) == []
    # the tables are in the remote server's catalog, reading this data folder's lake
    events = lake_data_dir / "lake" / "raw_web" / "events"
    assert spark.sql("select count(*) from raw_web.events").first()[0] == (
        ds.dataset(events, format="parquet").count_rows()
    )
    [location] = [
        row[1]
        for row in spark.sql("describe table extended raw_web.events").collect()
        if row[0] == "Location"
    ]
    # Spark writes a local URI with one slash (file:/tmp/...)
    assert location.removeprefix("file:").lstrip("/") == str(events).lstrip("/")
