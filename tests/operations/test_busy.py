"""One writing command at a time per warehouse: the second one says who is busy, in one line."""

from __future__ import annotations

import json
import re
import signal
from datetime import datetime
from pathlib import Path

from tests.operations.conftest import (
    Commands,
    StallingServer,
    lock_is_free,
    run_warehouse,
    stalled_payments_environment,
)


def test_second_command_while_a_load_runs_says_the_warehouse_is_busy(
    commands: Commands, stalling_server: StallingServer, simulated_data_dir: Path
) -> None:
    commands.watched_texts.append(str(simulated_data_dir))
    load = commands.start(
        "load",
        "shop",
        "payments",
        "--data-dir",
        str(simulated_data_dir),
        **stalled_payments_environment(stalling_server),
    )
    assert stalling_server.requested.wait(120), load.stderr_file.read_text()
    busy = re.compile(
        rf"error: the warehouse is busy: warehouse load since "
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC, pid {load.pid}"
    )

    for args in (("load", "shop"), ("build",), ("docs",), ("simulate", "--days", "1")):
        completed = run_warehouse(*args, "--data-dir", str(simulated_data_dir), timeout=60)
        assert completed.returncode == 1, (args, completed.stderr)
        assert len(completed.stderr_lines) == 1, (args, completed.stderr)
        assert busy.fullmatch(completed.stderr_lines[0]), (args, completed.stderr)

    holder = json.loads((simulated_data_dir / ".warehouse.lock").read_text())
    assert (holder["command"], holder["pid"]) == ("warehouse load", load.pid)
    since = datetime.fromisoformat(holder["started_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert since in completed.stderr_lines[0]

    # the first command still runs, and its lock goes with it, also when it is killed
    assert load.process.poll() is None
    load.process.send_signal(signal.SIGKILL)
    load.wait(30)
    assert lock_is_free(simulated_data_dir)
    completed = run_warehouse("load", "shop", "--data-dir", str(simulated_data_dir))
    assert completed.returncode == 0, completed.stderr
