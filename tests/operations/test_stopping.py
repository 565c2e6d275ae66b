"""Ctrl-C, SIGTERM and SIGKILL of a running `warehouse load` or `warehouse build`.

A stopped command stops as a whole: no later source loads, no dbt process runs on as an orphan
holding the warehouse file, and the user reads one line saying what was interrupted.
"""

from __future__ import annotations

import json
import os
import signal
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from tests.operations.conftest import (
    Commands,
    RunningCommand,
    StallingServer,
    dbt_processes,
    group_members,
    holds_open,
    lock_is_free,
    processes_mentioning,
    run_warehouse,
    stalled_payments_environment,
    wait_until,
)


def stop(command: RunningCommand, stop_signal: signal.Signals) -> None:
    if stop_signal == signal.SIGINT:
        # Ctrl-C in a terminal: the whole foreground process group gets it
        os.killpg(command.pid, stop_signal)
    else:
        # `kill <pid>` or a service manager: only the command gets it
        command.process.send_signal(stop_signal)


def load_runs(duckdb_path: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return connection.execute(
            "select source, status from raw_meta.load_runs order by started_at"
        ).fetchall()


def schemas(duckdb_path: Path) -> set[str]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        rows = connection.execute("select schema_name from information_schema.schemata").fetchall()
    return {name for (name,) in rows}


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_a_load_stops_the_whole_run(
    commands: Commands,
    stalling_server: StallingServer,
    simulated_data_dir: Path,
    stop_signal: signal.Signals,
) -> None:
    commands.watched_texts.append(str(simulated_data_dir))
    # payments waits on a server that never answers: the load is inside its second source
    load = commands.start(
        "load",
        "shop",
        "payments",
        "web",
        "logistics",
        "--data-dir",
        str(simulated_data_dir),
        **stalled_payments_environment(stalling_server),
    )
    assert stalling_server.requested.wait(120), load.stderr_file.read_text()

    stop(load, stop_signal)
    completed = load.wait(60)

    assert completed.returncode == 128 + stop_signal, completed.stderr
    assert completed.stderr_lines == [
        f"interrupted: warehouse load stopped by {stop_signal.name}; shop loaded, payments was "
        "loading: the next load finishes payments, web, logistics"
    ]
    duckdb_path = simulated_data_dir / "warehouse.duckdb"
    # the finished source stays, the interrupted one is logged, the later ones never started
    assert load_runs(duckdb_path) == [("shop", "ok"), ("payments", "interrupted")]
    assert "raw_shop" in schemas(duckdb_path)
    assert not {"raw_web", "raw_logistics"} & schemas(duckdb_path)
    assert group_members(load.pid) == []
    assert processes_mentioning(str(simulated_data_dir)) == []


def start_build_holding_the_file(commands: Commands, data_dir: Path) -> RunningCommand:
    """`warehouse build`, once its dbt process has the DuckDB file open."""
    commands.watched_texts.append(str(data_dir))
    build = commands.start("build", "--data-dir", str(data_dir))
    warehouse_file = data_dir / "warehouse.duckdb"

    def dbt_holding_the_file() -> list[int]:
        return [pid for pid in dbt_processes(data_dir) if holds_open(pid, warehouse_file)]

    build.dbt_pids = wait_until(dbt_holding_the_file, 120, "dbt to open the warehouse file")
    return build


def assert_nothing_left(build: RunningCommand, data_dir: Path) -> None:
    """No process of the build runs on, and the next command gets the lock and the file."""

    def leftovers() -> list[int]:
        # dbt leads a process group of its own (with, e.g., multiprocessing's resource tracker)
        groups = [*build.dbt_pids, build.pid]
        return [
            *processes_mentioning(str(data_dir)),
            *(p for g in groups for p in group_members(g)),
        ]

    wait_until(lambda: not leftovers(), 30, "the build's processes to exit")
    assert lock_is_free(data_dir)
    duckdb.connect(str(data_dir / "warehouse.duckdb")).close()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_a_build_stops_dbt(
    commands: Commands, loaded_data_dir: Path, stop_signal: signal.Signals
) -> None:
    build = start_build_holding_the_file(commands, loaded_data_dir)
    stop(build, stop_signal)
    completed = build.wait(60)

    assert completed.returncode == 128 + stop_signal
    assert completed.stderr_lines[-1] == (
        f"interrupted: warehouse build stopped by {stop_signal.name}; dbt stopped with it, "
        "run the command again to finish"
    )
    assert "Traceback" not in completed.stderr
    assert_nothing_left(build, loaded_data_dir)


def test_killing_the_build_takes_dbt_down(commands: Commands, loaded_data_dir: Path) -> None:
    build = start_build_holding_the_file(commands, loaded_data_dir)
    build.process.kill()
    assert build.wait(30).returncode == -signal.SIGKILL

    assert_nothing_left(build, loaded_data_dir)
    # a real build after it is not busy, and its dbt opens and writes the file (the seed loads;
    # the tests selected with it may fail on what the killed builds left half-built)
    completed = run_warehouse(
        "build", "--select", "countries", "--data-dir", str(loaded_data_dir), timeout=180
    )
    assert "OK loaded seed file reference.countries" in completed.stdout, completed.stderr


def test_query_during_a_build_names_the_build(commands: Commands, loaded_data_dir: Path) -> None:
    build = start_build_holding_the_file(commands, loaded_data_dir)
    holder = json.loads((loaded_data_dir / ".warehouse.lock").read_text())
    started_at = datetime.fromisoformat(holder["started_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")

    for args in (("query", "select 1"), ("status",)):
        completed = run_warehouse(*args, "--data-dir", str(loaded_data_dir))
        assert completed.returncode == 1
        assert completed.stderr_lines == [
            f"error: the warehouse is busy: warehouse build since {started_at}, pid {build.pid}"
        ]
    build.process.send_signal(signal.SIGTERM)
    assert build.wait(60).returncode == 143
    assert_nothing_left(build, loaded_data_dir)


def ignored_signals(pid: int) -> set[signal.Signals]:
    """The signals process `pid` ignores, from the SigIgn mask in /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = (line for line in status.splitlines() if line.startswith("SigIgn:"))
    mask = int(line.split()[1], 16)
    return {number for number in signal.Signals if mask >> (number - 1) & 1}


def test_a_command_takes_ctrl_c_even_when_the_suite_was_started_ignoring_it(
    commands: Commands,
) -> None:
    # `nohup make test &` or CI starts pytest with SIGINT ignored, which exec passes on to every
    # child; a command in a terminal's foreground gets it at its default, as the tests above need
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        command = commands.start("--help")
    finally:
        signal.signal(signal.SIGINT, previous)

    assert signal.SIGINT not in ignored_signals(command.pid)
    assert command.wait(60).returncode == 0
