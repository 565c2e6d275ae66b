"""Run dbt for a warehouse instance and read back what it did.

dbt runs in a subprocess rather than through `dbtRunner` in-process: dbt-duckdb keeps its
DuckDB connection for the life of the process, and the loaders must be able to open the same
file for writing right after a build. A subprocess releases the file when it exits. It starts
through `warehouse.processes.run_child`, so that it stops when the command that started it is
stopped or killed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.errors import WarehouseError
from warehouse.processes import run_child
from warehouse.settings import PROJECT_DIR, TELEMETRY_OFF, Paths

# profiles.yml's default target: the DuckDB warehouse `warehouse status` reads
DEFAULT_TARGET = "dev"


@dataclass
class DbtResult:
    """The outcome of one dbt command: its exit code and the statuses in run_results.json."""

    command: list[str]
    returncode: int
    elapsed_seconds: float | None = None
    status_counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def nodes_run(self) -> int:
        """Models, seeds, snapshots and tests the command ran (0 for a selection of nothing)."""
        return sum(self.status_counts.values())


# What a daily build leaves out (see `build_arguments`); the Airflow DAG's build adds it too.
DAILY_BUILD_FLAGS = ["--exclude-resource-type", "unit_test"]
DAILY_BUILD_EXCLUDE = "path:models/marts,tag:not_null"
"""The tests a daily build leaves out: the not_null tests of the marts (tagged by
macros/test_not_null.sql). Every mart enforces its contract, and each column those tests check
declares a not_null constraint, which DuckDB and PostgreSQL check on every row a build writes:
the test could only find what the write refused. Leaving them out saves a quarter of a daily
build's nodes; the full check (`--full`) and a full refresh still run them. The Airflow DAG's
build runs them too: Cosmos waits for every test of a model (see orchestration/dags)."""
# dbt targets whose tables accept a null where the contract declares not_null: dbt-spark on
# plain Parquet (no Delta without Maven) does not enforce the constraint, so the tests stay.
TARGETS_WITHOUT_NOT_NULL_CONSTRAINTS = frozenset({"spark"})


def build_arguments(
    *,
    select: str | None = None,
    full_refresh: bool = False,
    full_check: bool = False,
    target: str | None = None,
) -> list[str]:
    """The arguments of the warehouse's `dbt build`, daily or full.

    A daily build tests the rows it wrote (macros/get_where_subquery.sql) and leaves the unit
    tests out: they check a model's logic against fixed inputs, not the day's data, so a daily
    run of them finds nothing new (dbt recommends them for development and CI). It leaves out
    the marts' not_null tests too, which their enforced constraints make redundant
    (`DAILY_BUILD_EXCLUDE`), except on a `target` that does not enforce them. The full check
    (`full_check`: `warehouse build --full`, the nightly run, the demo) tests every row and runs
    the unit tests; so does a full refresh, which rewrites every row anyway.
    """
    args = ["build"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    if full_check:
        # read by macros/get_where_subquery.sql and macros/incremental_batch.sql
        args += ["--vars", json.dumps({"test_all_rows": True})]
    if not (full_check or full_refresh):
        args += DAILY_BUILD_FLAGS
        if target not in TARGETS_WITHOUT_NOT_NULL_CONSTRAINTS:
            args += ["--exclude", DAILY_BUILD_EXCLUDE]
    return args


# dbt's console-script entry point, run by this interpreter. `python -m dbt.cli.main` would make
# runpy print a RuntimeWarning on every run (the package `dbt.cli` imports `dbt.cli.main` itself).
DBT_ENTRY_POINT = (sys.executable, "-c", "from dbt.cli.main import cli; cli()")


def dbt_command(
    args: list[str], paths: Paths, target: str | None = None, target_dir: Path | None = None
) -> list[str]:
    """The full dbt command line for this project and this instance's folders.

    `target_dir` replaces the instance's dbt target folder (the docs site keeps its own).
    """
    command = [
        *DBT_ENTRY_POINT,
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target_dir or paths.dbt_target_dir),
        "--log-path",
        str(paths.dbt_log_dir),
    ]
    if target:
        command += ["--target", target]
    return command


def dbt_environment(paths: Paths) -> dict[str, str]:
    """The environment a dbt subprocess runs in: telemetry off and this instance's warehouse."""
    return {
        **os.environ,
        **TELEMETRY_OFF,
        "WAREHOUSE_DATA_DIR": str(paths.data_dir),
        "WAREHOUSE_DUCKDB_PATH": str(paths.duckdb_path),
    }


def run_dbt(
    args: list[str], paths: Paths, *, target: str | None = None, quiet: bool = False
) -> DbtResult:
    """Run one dbt command (for example ``["build"]``) and summarise its run_results.json.

    With ``quiet`` dbt's own log lines are captured instead of printed; they stay in the
    instance's dbt log folder either way.
    """
    command = dbt_command(args, paths, target)
    results_file = paths.dbt_target_dir / "run_results.json"
    if results_file.exists() and not latest_results_path(paths, target).exists():
        # a data folder from before the record: its last run starts it
        record_latest_results(paths, target, json.loads(results_file.read_text()))
    results_file.unlink(missing_ok=True)
    completed = run_dbt_process(command, paths, capture=quiet)
    result = DbtResult(command=command, returncode=completed.returncode)
    if results_file.exists():
        summarise_run_results(results_file, result)
        record_latest_results(paths, target, json.loads(results_file.read_text()))
    elif completed.returncode != 0:
        # dbt failed before running any node (bad profile, locked file, parse error):
        # its last lines say why.
        output = (completed.stdout or "") + (completed.stderr or "")
        result.failures = [line for line in output.strip().splitlines()[-5:] if line.strip()]
    return result


def run_dbt_process(
    command: list[str], paths: Paths, *, capture: bool
) -> subprocess.CompletedProcess[str]:
    """Run a `dbt_command` to its end; Ctrl-C, SIGTERM or SIGKILL of this process stop it too."""
    try:
        return run_child(
            command, cwd=PROJECT_DIR, env=dbt_environment(paths), capture=capture, name="dbt"
        )
    except OSError as error:
        raise WarehouseError(
            f"could not start dbt: {error}", hint="run `make setup` to install the environment"
        ) from error


def summarise_run_results(results_file: Path, result: DbtResult) -> None:
    """Count node statuses and collect the failing nodes' messages from run_results.json."""
    run_results = json.loads(results_file.read_text())
    result.elapsed_seconds = run_results.get("elapsed_time")
    for node in run_results.get("results", []):
        status = node.get("status", "unknown")
        result.status_counts[status] += 1
        if status in {"error", "fail", "runtime error"}:
            message = (node.get("message") or "").strip().splitlines()
            result.failures.append(f"{node['unique_id']}: {message[0] if message else status}")


def latest_results_path(paths: Paths, target: str | None = None) -> Path:
    """The latest result of every node the dbt runs on one target's warehouse produced.

    One file per target: the DuckDB and the PostgreSQL warehouse are built apart, and
    `warehouse status` and the data-quality page describe one of them.
    """
    name = target or os.environ.get("DBT_TARGET") or DEFAULT_TARGET
    return paths.data_dir / "dbt" / "latest_results" / f"{name}.json"


def read_latest_results(paths: Paths, target: str | None = None) -> dict[str, Any] | None:
    """The record `record_latest_results` keeps, shaped like dbt's run_results.json, or None."""
    path = latest_results_path(paths, target)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise WarehouseError(
            f"cannot read the record of dbt results {path}: {error}",
            hint="delete it and run `warehouse build` to start it again",
        ) from error


def record_latest_results(paths: Paths, target: str | None, run_results: dict[str, Any]) -> None:
    """Merge one dbt run's results into the target's record of each node's latest result.

    A `--select` build replaces the results of the nodes it ran and keeps the others', so what
    the status and the data-quality page say about a model is its last build's, whichever
    selection ran it. Nodes the project no longer has (not in the manifest) are dropped. The
    record's metadata is that of the latest run with results.
    """
    if not run_results.get("results"):
        return
    previous = read_latest_results(paths, target) or {}
    latest = {node["unique_id"]: node for node in previous.get("results", [])}
    latest.update({node["unique_id"]: node for node in run_results["results"]})
    manifest_file = paths.dbt_target_dir / "manifest.json"
    if manifest_file.exists():
        manifest = json.loads(manifest_file.read_text())
        in_project = {
            *manifest.get("nodes", {}),
            *manifest.get("sources", {}),
            *manifest.get("unit_tests", {}),
        }
        latest = {unique_id: node for unique_id, node in latest.items() if unique_id in in_project}
    record = {**run_results, "results": list(latest.values())}
    path = latest_results_path(paths, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written whole, then renamed: a build killed here leaves the previous record intact
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(record))
    partial.replace(path)
