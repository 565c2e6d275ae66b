"""What the Airflow DAG `larkspur_daily` (orchestration/dags/) runs: settings, tasks, callbacks.

The DAG file only wires tasks together; the work is here, importable and testable without a
running Airflow. Nothing here imports Airflow at module level: the CLI and `warehouse status`
read `FAILURES_TABLE` without paying for it.

Settings come from the environment the Airflow processes run in, mapped onto the project's own
(`warehouse.settings` reads them once): `WAREHOUSE_DATA_DIR`, `WAREHOUSE_DUCKDB_PATH`,
`WAREHOUSE_DESTINATION` as for the CLI; `LARKSPUR_SIMULATE=1` adds the demo's simulator step. For
PostgreSQL the Airflow connection `larkspur_postgres` (if defined) is mapped at run time onto
the variables dlt and profiles.yml read, so no secret is written in the DAG file.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from warehouse.errors import WarehouseError
from warehouse.settings import PROJECT_DIR, Paths, apply_environment, resolve_paths

log = logging.getLogger("larkspur.orchestration")

DAG_ID = "larkspur_daily"
# DuckDB has one writer: every task that writes the warehouse file takes this pool's one slot.
DUCKDB_POOL = "larkspur_duckdb"
POSTGRES_CONNECTION_ID = "larkspur_postgres"
FAILURES_SCHEMA = "raw_meta"
FAILURES_TABLE = "airflow_task_failures"
# "module:function" called with each failure's record (a dict): the hook for e-mail or chat.
ALERT_HOOK_VARIABLE = "LARKSPUR_ALERT_HOOK"
SIMULATE_VARIABLE = "LARKSPUR_SIMULATE"
MANIFEST_VARIABLE = "LARKSPUR_DBT_MANIFEST"
SELECT_VARIABLE = "LARKSPUR_DBT_SELECT"
RETRY_DELAY_VARIABLE = "LARKSPUR_LOAD_RETRY_DELAY"
# Cosmos' WATCHER mode: the task of the one `dbt build` the models' tasks report on
PRODUCER_TASK_ID = "dbt_producer_watcher"
# the last task, after every other: it fails the run if one of them failed
FAIL_RUN_TASK_ID = "fail_run_if_a_task_failed"
# history a new demo simulation starts with, as `warehouse demo` does
DEMO_HISTORY_DAYS = 60


@dataclass(frozen=True)
class DagSettings:
    """What the DAG is built from, read once from the environment at parse time."""

    paths: Paths
    destination: str
    simulate: bool
    manifest_path: Path
    # dbt selection of the nodes the DAG renders (all when empty)
    dbt_select: list[str]

    @property
    def pool(self) -> str | None:
        """The pool of the tasks that write the warehouse: DuckDB's one slot, else none."""
        return DUCKDB_POOL if self.destination == "duckdb" else None

    @property
    def dbt_target(self) -> str:
        return "postgres" if self.destination == "postgres" else "dev"


def dag_settings() -> DagSettings:
    """Resolve the data folder, destination and manifest, and export them for dlt and dbt."""
    paths = resolve_paths()
    apply_environment(paths)
    destination = os.environ.get("WAREHOUSE_DESTINATION", "duckdb")
    manifest = os.environ.get(MANIFEST_VARIABLE)
    return DagSettings(
        paths=paths,
        destination=destination,
        simulate=os.environ.get(SIMULATE_VARIABLE, "") in {"1", "true", "True"},
        manifest_path=Path(manifest) if manifest else manifest_path(paths),
        dbt_select=os.environ.get(SELECT_VARIABLE, "").split(),
    )


def manifest_path(paths: Paths) -> Path:
    """Where `prepare_manifest` writes the manifest the DAG renders its dbt tasks from."""
    return paths.data_dir / "airflow" / "dbt" / "manifest.json"


def prepare_manifest(paths: Paths) -> Path:
    """`dbt parse` into the DAG's manifest folder: the DAG reads it instead of running dbt ls."""
    from warehouse.dbt import run_dbt_process

    target_dir = manifest_path(paths).parent
    command = [
        *dbt_entry(),
        "parse",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target_dir),
        "--log-path",
        str(paths.dbt_log_dir),
    ]
    completed = run_dbt_process(command, paths, capture=True)
    if completed.returncode != 0:
        last = ((completed.stdout or "") + (completed.stderr or "")).strip().splitlines()[-1:]
        raise WarehouseError(f"dbt parse failed: {' '.join(last)}")
    return manifest_path(paths)


def dbt_entry() -> tuple[str, ...]:
    from warehouse.dbt import DBT_ENTRY_POINT

    return DBT_ENTRY_POINT


def dbt_executable() -> str:
    """The dbt the DAG's dbt tasks run: the project environment's, beside this Python."""
    import sys

    return str(Path(sys.executable).parent / "dbt")


def simulate_day(data_interval_start: datetime, **_context: Any) -> str:
    """The demo's first task: the simulator's systems receive the run's day (see below)."""
    return advance_simulation(data_interval_start.date(), dag_settings().paths)


def advance_simulation(day: date, paths: Paths) -> str:
    """Simulate the demo company until day `day` is in its sources; nothing if it is already.

    A new simulation starts with `DEMO_HISTORY_DAYS` of history ending on `day`, like
    `warehouse demo`. Re-running a day (or a day before the simulation's last) simulates nothing,
    so runs stay idempotent.
    """
    import json
    from datetime import timedelta

    from simulator import simulate

    state_file = paths.sources_dir / "simulator_state.json"
    if not state_file.exists():
        start = day - timedelta(days=DEMO_HISTORY_DAYS - 1)
        result = simulate(paths.data_dir, DEMO_HISTORY_DAYS, start_date=start)
        return f"simulated {result.first_day} to {result.last_day}"
    last_day = date.fromisoformat(json.loads(state_file.read_text())["last_day"])
    missing = (day - last_day).days
    if missing <= 0:
        return f"the simulation already covers {day} (last day {last_day})"
    result = simulate(paths.data_dir, missing)
    return f"simulated {result.first_day} to {result.last_day}"


class SourceLoadFailed(WarehouseError):
    """A source's load failed; the task fails with this one line (and Airflow retries it)."""


def load_source(name: str) -> dict[str, int]:
    """Load one registered source, or raise `SourceLoadFailed` with the loader's reason.

    The loader writes its own `raw_meta.load_runs` row either way, which `warehouse status`
    shows; the rows per table are the task's return value (its XCom).
    """
    from contextlib import nullcontext

    from loaders import load
    from loaders.registry import SOURCES

    settings = dag_settings()
    map_postgres_connection(settings)
    # the demo's simulated vendor APIs are served for the load, as `warehouse load --local-api`
    serves_api = settings.simulate and SOURCES[name].serves_api
    with local_api_server(settings.paths) if serves_api else nullcontext():
        report = load([name], data_dir=settings.paths.data_dir, destination=settings.destination)
    result = report.result(name)
    if not result.ok:
        raise SourceLoadFailed(f"{name} failed to load: {result.error}")
    return result.rows


def exclude_models_of_failed_loads(context: dict[str, Any]) -> None:
    """The dbt build's `pre_execute`: leave out every node that needs a source whose load failed.

    The build runs whatever the loads did (`all_done`). Each source whose load task did not
    succeed in this run takes all its dependent models, seeds and snapshots out of the build,
    and Cosmos' own mechanism for that (the one its source-freshness check uses) marks them
    "skipped", so their tasks end skipped. The next day's run loads what the failed source
    missed and builds them again.
    """
    import json

    from loaders.registry import source_names

    instance = context["ti"]
    load_ids = [f"load_{name}" for name in source_names()]
    states = instance.get_task_states(
        dag_id=instance.dag_id, run_ids=[instance.run_id], task_ids=load_ids
    ).get(instance.run_id, {})
    failed = sorted(
        task_id.removeprefix("load_")
        for task_id in load_ids
        if task_id in states and str(states[task_id]) != "success"
    )
    if not failed:
        return
    manifest = json.loads(dag_settings().manifest_path.read_text())
    skipped = dependents_of_sources(manifest, failed)
    log.warning(
        "loads failed (%s): the build leaves out the %d nodes that need them",
        ", ".join(failed),
        len(skipped),
    )
    instance.task._apply_node_state_tokens(context, [(node, "skipped") for node in skipped])


def dependents_of_sources(manifest: dict[str, Any], sources: list[str]) -> list[str]:
    """The models, seeds and snapshots downstream of any table of the named sources."""
    children = manifest["child_map"]
    queue = [
        unique_id
        for unique_id, source in manifest["sources"].items()
        if source["source_name"] in sources
    ]
    seen: set[str] = set()
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    buildable = ("model.", "seed.", "snapshot.")
    return sorted(node for node in seen if node.startswith(buildable))


def local_api_server(paths: Paths) -> Any:
    from warehouse.cli import local_api_server as serve

    return serve(paths)


def load_retry_delay() -> float:
    """Seconds before a failed load's first retry (`LARKSPUR_LOAD_RETRY_DELAY`, default 60);
    each further retry waits twice as long."""
    return float(os.environ.get(RETRY_DELAY_VARIABLE) or 60)


def map_postgres_connection(settings: DagSettings) -> None:
    """Export the Airflow connection `larkspur_postgres` (if any) as dlt's and dbt's settings.

    Read at run time, in the task: the secret stays in Airflow's connection store, never in
    the DAG file or its serialised form.
    """
    if settings.destination != "postgres":
        return
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(POSTGRES_CONNECTION_ID)
    except Exception:  # no such connection: the environment's variables stand
        return
    os.environ.update(postgres_environment(connection))


def postgres_environment(connection: Any) -> dict[str, str]:
    """An Airflow connection as the variables profiles.yml and dlt's postgres destination read."""
    from urllib.parse import quote

    login, password = connection.login or "", connection.password or ""
    host, port = connection.host or "127.0.0.1", str(connection.port or 5432)
    database = connection.schema or "larkspur"
    return {
        "WAREHOUSE_PG_HOST": host,
        "WAREHOUSE_PG_PORT": port,
        "WAREHOUSE_PG_USER": login,
        "WAREHOUSE_PG_DATABASE": database,
        "DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD": password,
        "DESTINATION__POSTGRES__CREDENTIALS": (
            f"postgresql://{quote(login)}:{quote(password)}@{host}:{port}/{database}"
        ),
    }


def source_freshness() -> str:
    """`dbt source freshness`; a stale source fails the task with dbt's own reasons.

    Its `sources.json` is what the run's docs site shows (`build_docs`): the one of an earlier
    check is removed first, so the site never passes it off as this run's.
    """
    from warehouse.dbt import run_dbt

    settings = dag_settings()
    map_postgres_connection(settings)
    freshness_results(settings.paths).unlink(missing_ok=True)
    result = run_dbt(["source", "freshness"], settings.paths, target=settings.dbt_target)
    if not result.ok:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.status_counts.items()))
        raise WarehouseError(
            "source freshness failed: " + "; ".join(result.failures or [counts or "no results"])
        )
    return f"{result.status_counts['pass']} sources fresh, {result.status_counts['warn']} warned"


def freshness_results(paths: Paths) -> Path:
    """Where `source_freshness` leaves dbt's `sources.json`: the build's target folder."""
    return paths.dbt_target_dir / "sources.json"


def build_docs() -> str:
    """The docs site (`warehouse docs`) from the warehouse this run built, with the freshness
    its `source_freshness` task checked (dbt checks it once per run, not again for the site)."""
    from warehouse.docs_site import build_site

    settings = dag_settings()
    map_postgres_connection(settings)
    site = build_site(
        settings.paths,
        target=settings.dbt_target,
        quiet=True,
        freshness_results=freshness_results(settings.paths),
    )
    return str(site)


def fail_run() -> None:
    """The DAG's last task, run only when another failed (`one_failed`): fails the run."""
    raise WarehouseError(
        f"a task of this run failed: its log, and {FAILURES_SCHEMA}.{FAILURES_TABLE}"
        " (`warehouse status`), say which and why"
    )


def failure_record(context: dict[str, Any]) -> dict[str, Any]:
    """The facts of one failed task an operator needs, from Airflow's callback context."""
    instance = context["ti"]
    error = context.get("exception")
    message = str(error).strip().splitlines() if error else []
    interval = context.get("data_interval_start") or context.get("logical_date")
    return {
        "dag_id": instance.dag_id,
        "run_id": instance.run_id,
        "task_id": instance.task_id,
        "try_number": int(instance.try_number or 0),
        "interval_start": interval.isoformat() if interval else None,
        "failed_at": datetime.now(UTC).replace(tzinfo=None),
        "error": message[0] if message else "failed",
    }


def record_failure(context: dict[str, Any]) -> None:
    """Airflow's `on_failure_callback`: log the failure, keep it in the warehouse, alert.

    The row goes to `raw_meta.airflow_task_failures`, which `warehouse status` lists; the
    alert hook (`LARKSPUR_ALERT_HOOK="module:function"`) gets the same record. Neither a
    locked warehouse nor a broken hook hides the task's own failure: they are logged.
    """
    record = failure_record(context)
    log.error(
        "larkspur task failed: %s in %s (try %s): %s",
        record["task_id"],
        record["run_id"],
        record["try_number"],
        record["error"],
    )
    try:
        write_failure(resolve_paths(), record)
    except Exception as error:
        log.error(
            "could not record the failure in %s.%s: %s", FAILURES_SCHEMA, FAILURES_TABLE, error
        )
    if hook := os.environ.get(ALERT_HOOK_VARIABLE):
        try:
            module, _, function = hook.partition(":")
            getattr(importlib.import_module(module), function)(record)
        except Exception as error:
            log.error("the alert hook %s failed: %s", hook, error)


def write_failure(paths: Paths, record: dict[str, Any]) -> None:
    """Append one failure to `raw_meta.airflow_task_failures` in the DuckDB warehouse."""
    import duckdb

    with duckdb.connect(str(paths.duckdb_path)) as connection:
        connection.execute(f"create schema if not exists {FAILURES_SCHEMA}")
        connection.execute(
            f"""
            create table if not exists {FAILURES_SCHEMA}.{FAILURES_TABLE} (
                dag_id varchar, run_id varchar, task_id varchar, try_number integer,
                interval_start varchar, failed_at timestamp, error varchar
            )
            """
        )
        connection.execute(
            f"insert into {FAILURES_SCHEMA}.{FAILURES_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            list(record.values()),
        )
