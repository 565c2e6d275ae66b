"""Run MetricFlow's `mf` against one data folder's warehouse, offline.

`mf` reads the semantic manifest only from `target/semantic_manifest.json` beside
`dbt_project.yml`, whatever dbt's `--target-path` says, and asks PyPI for a newer version of
itself on every start. Our builds write their artefacts per data folder (`<data>/dbt/target`),
and nothing may reach the internet, so this module gives `mf` a project folder of its own per
data folder (links to the real project files plus a copy of that build's semantic manifest)
and switches the version check off before `mf` is imported.

`query_metrics` runs many queries in one child process through MetricFlow's Python API
(`warehouse.metric_queries`): the engine `mf query` uses, started once.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from warehouse.dbt import dbt_environment
from warehouse.errors import WarehouseError
from warehouse.processes import run_child
from warehouse.settings import PROJECT_DIR, Paths, temporary_environment

# What `mf` reads of the project: its configuration, and the files a parse would need.
PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "seeds",
    "snapshots",
    "analyses",
    "tests",
)


def metricflow_project_dir(paths: Paths) -> Path:
    """The folder `mf` runs in for this data folder."""
    return paths.data_dir / "dbt" / "metricflow"


def prepare_metricflow_project(paths: Paths) -> Path:
    """Link the project into this data folder's `mf` folder with the last build's manifest."""
    manifest = paths.dbt_target_dir / "semantic_manifest.json"
    if not manifest.exists():
        raise WarehouseError(
            f"no semantic manifest in {paths.dbt_target_dir}",
            hint="build the warehouse first: `warehouse build` (or `warehouse demo`)",
        )
    project = metricflow_project_dir(paths)
    (project / "target").mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        link = project / name
        if not link.is_symlink():
            link.symlink_to(PROJECT_DIR / name)
    shutil.copyfile(manifest, project / "target" / "semantic_manifest.json")
    return project


def disable_update_check() -> None:
    """Stop `mf` from asking PyPI for a newer version (it would wait on the network offline)."""
    import update_checker

    update_checker.query_pypi = lambda *args, **kwargs: {"success": False}


def run_metricflow(arguments: Sequence[str], paths: Paths) -> int:
    """Run one `mf` command (e.g. `["query", "--metrics", "net_revenue"]`); its exit code."""
    project = prepare_metricflow_project(paths)
    disable_update_check()
    from dbt_metricflow.cli.main import cli

    environment = {
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "WAREHOUSE_DUCKDB_PATH": str(paths.duckdb_path),
    }
    working_dir = Path.cwd()
    with temporary_environment(environment):
        os.chdir(project)
        try:
            cli.main(args=list(arguments), prog_name="warehouse metrics", standalone_mode=True)
        except SystemExit as exit_:
            return exit_.code if isinstance(exit_.code, int) else 1
        finally:
            os.chdir(working_dir)
    return 0


def metrics_command(request: Mapping[str, Sequence[str]]) -> str:
    """The `warehouse metrics query` command that prints what a `query_metrics` request reads."""
    command = f"warehouse metrics query --metrics {','.join(request['metrics'])}"
    group_by = request.get("group_by") or ()
    return command + (f" --group-by {','.join(group_by)}" if group_by else "")


def query_metrics(
    requests: Mapping[str, Mapping[str, Sequence[str]]], paths: Paths, target: str | None = None
) -> dict[str, dict[str, Any]]:
    """Run named MetricFlow queries in one process; per name, its ``columns`` and ``rows``.

    A request names ``metrics`` and optionally ``group_by`` (also its order), as `mf query`'s
    options do. Raises `WarehouseError` naming the first query that failed.
    """
    project = prepare_metricflow_project(paths)
    environment = {
        **dbt_environment(paths),
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
    }
    if target:
        environment["DBT_TARGET"] = target
    with tempfile.TemporaryDirectory(prefix="metric-queries-") as exchange:
        requests_file = Path(exchange) / "requests.json"
        results_file = Path(exchange) / "results.json"
        requests_file.write_text(json.dumps(requests), encoding="utf-8")
        command = [sys.executable, "-m", "warehouse.metric_queries", str(requests_file)]
        completed = run_child(
            [*command, str(results_file)],
            cwd=project,
            env=environment,
            capture=True,
            name="MetricFlow",
        )
        if completed.returncode != 0 or not results_file.exists():
            output = (completed.stdout or "") + (completed.stderr or "")
            lines = [line.strip() for line in output.splitlines() if line.strip()]
            raise WarehouseError(
                "MetricFlow queries did not run: " + (lines[-1] if lines else "no output"),
                hint="run `warehouse metrics validate-configs` to see why",
            )
        results: dict[str, dict[str, Any]] = json.loads(results_file.read_text(encoding="utf-8"))
    for name, result in results.items():
        if "error" in result:
            raise WarehouseError(
                f"MetricFlow query {name} failed: {result['error']}",
                hint=f"see the whole message with `{metrics_command(requests[name])}`",
            )
    return results
