"""`larkspur_daily`: the Larkspur warehouse, every day by itself, as an Apache Airflow DAG.

A run for day D (its data interval, D 00:00 to D+1 00:00 UTC, run once D is over):

    [simulate_day] >> load_<source> (one task per registered source) >> dbt.dbt_producer_watcher
    (one `dbt build`) >> dbt (a task per model, its tests after it) >> source_freshness >> docs_site

and `fail_run_if_a_task_failed` after them all, which fails the run if any task failed.

The dbt part runs in Cosmos' WATCHER mode: one `dbt build` (the producer task) builds and tests
every model in one dbt process, and each model's task reads that model's result from it, so the
graph (and the UI) still shows every model and every model's tests. A source that fails fails
its load task (after its retries); the build then leaves out every model that needs that source
(`exclude_models_of_failed_loads`) and their tasks end "skipped"; every other model still builds.
On DuckDB, the one-writer database, the tasks that write the warehouse share the pool
`larkspur_duckdb` of one slot.

Settings come from the environment (see `warehouse.orchestration`); the dbt tasks are rendered
from the manifest `warehouse airflow` (or `dbt parse`) writes, never from `dbt ls` at parse time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG
from airflow.task.trigger_rule import TriggerRule
from airflow.timetables.interval import CronDataIntervalTimetable
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from loaders.registry import source_names
from warehouse import orchestration as tasks
from warehouse.dbt import DAILY_BUILD_FLAGS
from warehouse.settings import PROJECT_DIR

settings = tasks.dag_settings()
if not settings.manifest_path.exists():
    raise FileNotFoundError(
        f"no dbt manifest at {settings.manifest_path}: `warehouse airflow` writes it, or run "
        f"`dbt parse --target-path {settings.manifest_path.parent}` in the project"
    )

default_args = {
    "owner": "larkspur",
    "pool": settings.pool or "default_pool",
    "on_failure_callback": tasks.record_failure,
}
load_retries = {
    "retries": 2,
    "retry_delay": timedelta(seconds=tasks.load_retry_delay()),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}

with DAG(
    dag_id=tasks.DAG_ID,
    description="Simulate (demo), load every source, dbt build with tests, freshness, docs",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2025, 1, 1),
    # an existing Airflow that installs the DAG runs the latest day only; `airflow backfill
    # create` fills a date range on purpose
    catchup=False,
    # DuckDB has one writer, and day D+1's incremental loads build on day D's
    max_active_runs=1,
    default_args=default_args,
    tags=["larkspur", "dbt"],
    doc_md=__doc__,
) as dag:
    loads = {
        name: PythonOperator(
            task_id=f"load_{name}",
            python_callable=tasks.load_source,
            op_args=[name],
            **load_retries,
        )
        for name in source_names()
    }
    if settings.simulate:
        simulate_day = PythonOperator(
            task_id="simulate_day",
            python_callable=tasks.simulate_day,
        )
        simulate_day >> list(loads.values())

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=PROJECT_DIR, manifest_path=settings.manifest_path
        ),
        profile_config=ProfileConfig(
            profile_name="larkspur",
            target_name=settings.dbt_target,
            profiles_yml_filepath=PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            # one dbt process for the build: it releases the DuckDB file when it ends
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=tasks.dbt_executable(),
            setup_operator_args={
                # the build runs whatever the loads did; the models a failed load feeds are
                # left out of it (and their tasks skipped) before it starts
                "trigger_rule": TriggerRule.ALL_DONE,
                "pre_execute": tasks.exclude_models_of_failed_loads,
                # a daily build, as `warehouse build` runs it: no unit tests
                "dbt_cmd_flags": DAILY_BUILD_FLAGS,
            },
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            # a test of two models (a relationship) runs once both are built
            should_detach_multiple_parents_tests=True,
            # `LARKSPUR_DBT_SELECT="path:models/staging"` renders part of the project only
            select=settings.dbt_select,
            # No exclude=[DAILY_BUILD_EXCLUDE] here, unlike `warehouse build`: Cosmos 1.15 counts
            # every test of a model, excluded or not, before it reports the model's tests
            # (DbtGraph.tests_per_model), so a test the build left out keeps the model's test
            # task waiting until it runs the model's tests itself. The DAG's build runs them.
        ),
        operator_args={"install_deps": False},
    )

    # Each load feeds only the models that read its source. The models' tasks report what the
    # one build did, so the first ones run after it, whatever its state: a model it left out
    # reports "skipped", one that failed "failed".
    producer = dbt.tasks_map[tasks.PRODUCER_TASK_ID]
    list(loads.values()) >> producer
    nodes = dbt.dbt_graph.nodes
    for unique_id, task_or_group in dbt.tasks_map.items():
        if unique_id not in nodes:
            continue  # the producer and its gate
        parents = nodes[unique_id].depends_on
        for parent in parents:
            if parent.startswith("source.") and (source := parent.split(".")[2]) in loads:
                loads[source] >> task_or_group
        if not set(parents) & set(dbt.tasks_map):
            producer >> task_or_group
            for task in getattr(task_or_group, "roots", [task_or_group]):
                task.trigger_rule = TriggerRule.ALL_DONE

    source_freshness = PythonOperator(
        task_id="source_freshness",
        python_callable=tasks.source_freshness,
        trigger_rule="all_done",
    )
    docs_site = PythonOperator(
        task_id="docs_site",
        python_callable=tasks.build_docs,
        trigger_rule="all_done",
    )
    dbt >> source_freshness >> docs_site

    # The run's own state. Its leaves run whatever failed before them (all_done), so without
    # this one a run whose load failed would still end "success" in the UI.
    fail_run = PythonOperator(
        task_id=tasks.FAIL_RUN_TASK_ID,
        python_callable=tasks.fail_run,
        trigger_rule=TriggerRule.ONE_FAILED,
        retries=0,
        # the failed task has recorded (and alerted) its failure already
        on_failure_callback=None,
    )
    [task for task in dag.tasks if task is not fail_run] >> fail_run
