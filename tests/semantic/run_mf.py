"""Run several `mf` commands in one Python process; write their exit codes and output as JSON.

Usage: ``python run_mf.py COMMANDS_JSON RESULTS_JSON``, where the first file maps a name to the
arguments of one command (``{"revenue": ["query", "--metrics", "net_revenue"]}``). Run it in
the folder `warehouse.metrics.prepare_metricflow_project` makes (what `warehouse metrics` runs
in). Each command is the real `mf` CLI, dbt-metricflow's click group; importing it takes most
of an invocation's time, so the tests pay for it once instead of once per command.
The process exits when done, which releases dbt-duckdb's hold on the warehouse file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from warehouse.metrics import disable_update_check

# `mf` asks PyPI for a newer version of itself on every start; tests never reach the internet.
disable_update_check()

from dbt_metricflow.cli.main import cli  # noqa: E402  (after the update check is disabled)


def run(args: list[str]) -> dict[str, object]:
    """One `mf` command: its exit code and everything it printed.

    Captured at the file-descriptor level: `mf`'s spinners hold on to the stdout they saw at
    import, so swapping sys.stdout would miss their lines.
    """
    exit_code: object = 0
    with tempfile.TemporaryFile() as capture:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(capture.fileno(), 1)
        os.dup2(capture.fileno(), 2)
        try:
            cli.main(args=args, prog_name="mf", standalone_mode=True)
        except SystemExit as exit_:
            exit_code = exit_.code or 0
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        capture.seek(0)
        output = capture.read().decode("utf-8", errors="replace")
    return {"exit_code": exit_code, "output": output}


def main() -> None:
    commands_file, results_file = Path(sys.argv[1]), Path(sys.argv[2])
    commands: dict[str, list[str]] = json.loads(commands_file.read_text())
    results = {name: run(args) for name, args in commands.items()}
    # a file, not stdout: dbt's and MetricFlow's loggers may write to the real stdout
    results_file.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
