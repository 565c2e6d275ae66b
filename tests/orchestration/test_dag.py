"""The DAG `larkspur_daily` as Airflow parses it: no import error, and the tasks and edges the
issue asks for (a load per registered source before the models that read it, each model's tests
after it, freshness and the docs site last)."""

from __future__ import annotations

import json

import pytest

from loaders.registry import source_names
from tests.orchestration.conftest import AirflowInstance
from warehouse.dbt import DAILY_BUILD_EXCLUDE, DAILY_BUILD_FLAGS
from warehouse.orchestration import DUCKDB_POOL, FAIL_RUN_TASK_ID, PRODUCER_TASK_ID

PRODUCER = f"dbt.{PRODUCER_TASK_ID}"


@pytest.fixture(scope="module")
def parsed(airflow_instance: AirflowInstance) -> dict:
    return airflow_instance.run_dag("inspect", LARKSPUR_SIMULATE="1")


def test_dag_imports_without_errors_in_under_10_seconds(parsed: dict) -> None:
    assert parsed["import_errors"] == {}
    print(
        f"DAG file (Cosmos and the DAG, Airflow loaded): {parsed['import_seconds']:.1f} s"
        f" ({parsed['import_cpu_seconds']:.1f} s CPU); Airflow itself:"
        f" {parsed['airflow_import_seconds']:.1f} s"
        f" ({parsed['airflow_import_cpu_seconds']:.1f} s CPU)"
    )
    # The bound, for a new process that imports Airflow and then the DAG file (Airflow's
    # own import timeout, 30 s, counts the file alone). In CPU seconds: on an idle machine they
    # are the wall time, on a shared one the wall time also counts the other processes' turns.
    assert parsed["airflow_import_cpu_seconds"] + parsed["import_cpu_seconds"] < 10


def test_a_load_task_per_source_after_the_simulator(parsed: dict) -> None:
    tasks = parsed["tasks"]
    loads = {f"load_{name}" for name in source_names()}
    assert loads <= set(tasks)
    assert set(tasks["simulate_day"]["downstream"]) == {*loads, FAIL_RUN_TASK_ID}
    for load in loads:
        assert tasks[load]["retries"] == 2
        assert tasks[load]["pool"] == DUCKDB_POOL


def test_each_load_feeds_only_its_own_staging_models(
    parsed: dict, airflow_instance: AirflowInstance
) -> None:
    manifest = json.loads(airflow_instance.manifest.read_text())
    for name in source_names():
        readers = {
            node["name"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and any(
                parent.startswith(f"source.larkspur.{name}.")
                for parent in node["depends_on"]["nodes"]
            )
        }
        assert readers, name
        assert set(parsed["tasks"][f"load_{name}"]["downstream"]) == {
            PRODUCER,
            FAIL_RUN_TASK_ID,
            *(f"dbt.{model}.run" for model in readers),
        }


def test_one_dbt_build_runs_after_every_load_and_before_every_model_task(parsed: dict) -> None:
    tasks = parsed["tasks"]
    producer = tasks[PRODUCER]
    assert producer["operator"] == "DbtProducerWatcherOperator"
    # it runs whatever the loads did: a failed load's models are left out of it, not the build
    assert producer["trigger_rule"] == "all_done"
    # a daily build, as `warehouse build`'s: the unit tests are left to CI and --full; the marts'
    # not_null tests run (Cosmos would wait for them, see the DAG), where `warehouse build`
    # leaves them to their constraints
    assert producer["dbt_cmd_flags"] == DAILY_BUILD_FLAGS
    assert DAILY_BUILD_EXCLUDE not in (producer["exclude"] or "")
    assert set(producer["upstream"]) == {f"load_{name}" for name in source_names()}
    after_producer, queue = set(), [PRODUCER]
    while queue:
        for task in tasks[queue.pop()]["downstream"]:
            if task not in after_producer:
                after_producer.add(task)
                queue.append(task)
    model_tasks = {task for task in tasks if task.startswith("dbt.") and task != PRODUCER}
    assert model_tasks - after_producer == set()
    operators = {tasks[task]["operator"] for task in model_tasks}
    assert operators == {
        "DbtRunWatcherOperator",
        "DbtTestWatcherOperator",
        "DbtSeedWatcherOperator",
        "DbtSnapshotWatcherOperator",
        "EmptyOperator",
    }
    # the first model tasks report whatever the build did, so they run once it is over
    for task in model_tasks:
        if PRODUCER in tasks[task]["upstream"] and task != f"{PRODUCER}_done":
            assert tasks[task]["trigger_rule"] == "all_done", task


def test_every_model_runs_then_tests(parsed: dict, airflow_instance: AirflowInstance) -> None:
    manifest = json.loads(airflow_instance.manifest.read_text())
    tasks = parsed["tasks"]
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"]["materialized"] == "ephemeral":
            continue
        run = f"dbt.{node['name']}.run"
        assert run in tasks, run
        if f"dbt.{node['name']}.test" in tasks:
            assert f"dbt.{node['name']}.test" in tasks[run]["downstream"]


def test_freshness_and_docs_come_last_whatever_failed(parsed: dict) -> None:
    tasks = parsed["tasks"]
    assert tasks["source_freshness"]["downstream"] == ["docs_site", FAIL_RUN_TASK_ID]
    assert tasks["source_freshness"]["trigger_rule"] == "all_done"
    assert tasks["docs_site"]["trigger_rule"] == "all_done"
    leaves = [
        task
        for task, facts in tasks.items()
        if task.startswith("dbt.") and set(facts["downstream"]) <= {FAIL_RUN_TASK_ID}
    ]
    assert leaves == []
    assert parsed["max_active_runs"] == 1
    # the run fails if any task failed, after them all
    assert tasks[FAIL_RUN_TASK_ID]["trigger_rule"] == "one_failed"
    assert set(tasks[FAIL_RUN_TASK_ID]["upstream"]) == set(tasks) - {FAIL_RUN_TASK_ID}
    assert parsed["catchup"] is False


def test_a_backfill_creates_one_run_per_day_of_its_range(airflow_instance: AirflowInstance) -> None:
    """`airflow backfill create` over two days: one run each, for that day's data interval.

    Only the runs are created here (a scheduler runs them); each runs what `dag.test()` runs
    for its logical date.
    """
    airflow = airflow_instance.airflow
    airflow("dags", "reserialize")
    airflow(
        "backfill", "create", "--dag-id", "larkspur_daily",
        "--from-date", "2025-03-01", "--to-date", "2025-03-02",
    )  # fmt: skip
    listed = airflow("dags", "list-runs", "larkspur_daily", "-o", "json")
    # Airflow logs its warnings to standard output too: the JSON is the last line
    runs = json.loads(listed.strip().splitlines()[-1])
    backfilled = sorted(
        (run["logical_date"], run["run_after"])
        for run in runs
        if run["run_id"].startswith("backfill__")
    )
    # the run for day D is due once D is over: at the end of its data interval
    assert backfilled == [
        ("2025-03-01T00:00:00+00:00", "2025-03-02T00:00:00+00:00"),
        ("2025-03-02T00:00:00+00:00", "2025-03-03T00:00:00+00:00"),
    ]
