"""The DAG `larkspur_daily` as Airflow parses it: no import error, and the tasks and edges the
issue asks for (a load per registered source before the models that read it, each model's tests
after it, freshness and the docs site last)."""

from __future__ import annotations

import json

import pytest

from loaders.registry import source_names
from tests.orchestration.conftest import AirflowInstance
from warehouse.orchestration import DUCKDB_POOL


@pytest.fixture(scope="module")
def parsed(airflow_instance: AirflowInstance) -> dict:
    return airflow_instance.run_dag("inspect", LARKSPUR_SIMULATE="1")


def test_dag_imports_without_errors(parsed: dict) -> None:
    assert parsed["import_errors"] == {}
    # reported, not asserted: the bound is 10 s, Airflow's import timeout 30 s
    print(f"DagBag import (Airflow, Cosmos and the DAG): {parsed['import_seconds']:.1f} s")
    assert "larkspur_daily" not in json.dumps(parsed["import_errors"])


def test_a_load_task_per_source_after_the_simulator(parsed: dict) -> None:
    tasks = parsed["tasks"]
    loads = {f"load_{name}" for name in source_names()}
    assert loads <= set(tasks)
    assert set(tasks["simulate_day"]["downstream"]) == loads
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
            f"dbt.{model}.run" for model in readers
        }


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
    assert tasks["source_freshness"]["downstream"] == ["docs_site"]
    assert tasks["source_freshness"]["trigger_rule"] == "all_done"
    assert tasks["docs_site"]["trigger_rule"] == "all_done"
    leaves = [
        task for task, facts in tasks.items() if task.startswith("dbt.") and not facts["downstream"]
    ]
    assert leaves == []
    assert parsed["max_active_runs"] == 1
    assert parsed["catchup"] is False
