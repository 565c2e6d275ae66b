"""Running the real `warehouse` command line in a subprocess, as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliRun:
    """What one `python -m warehouse ...` printed and how it exited."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    def assert_one_error(self, *fragments: str) -> str:
        """Exit code 1, no traceback, exactly one `error:` line holding every fragment."""
        output = self.stdout + self.stderr
        assert "Traceback" not in output, output
        assert self.returncode == 1, output
        assert len(self.error_lines) == 1, output
        [line] = self.error_lines
        for fragment in fragments:
            assert fragment in line, line
        return line


def run_warehouse(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: int = 300
) -> CliRun:
    """`python -m warehouse *args` with a wide terminal, so that an error stays on one line."""
    environment = {**os.environ, "COLUMNS": "400", **(env or {})}
    for variable in ("WAREHOUSE_DATA_DIR", "WAREHOUSE_DUCKDB_PATH"):
        if env is None or variable not in env:
            environment.pop(variable, None)
    completed = subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=environment,
        timeout=timeout,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)
