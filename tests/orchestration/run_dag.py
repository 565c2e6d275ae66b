"""Run in a subprocess by the orchestration tests, with AIRFLOW_HOME and the project's settings in
its environment (Airflow reads its configuration once, at import): prints one JSON line.

    python -m tests.orchestration.run_dag inspect      the DAG's import errors, time, tasks, edges
    python -m tests.orchestration.run_dag test DATE    `dag.test()` for the day DATE; task states
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

from warehouse.settings import PROJECT_DIR

DAGS_FOLDER = PROJECT_DIR / "orchestration" / "dags"


def main(arguments: list[str]) -> None:
    started, started_cpu = time.perf_counter(), time.process_time()
    from airflow.dag_processing.dagbag import DagBag

    airflow_seconds = time.perf_counter() - started
    airflow_cpu_seconds = time.process_time() - started_cpu
    started, started_cpu = time.perf_counter(), time.process_time()
    # what the dag-processor times against its import timeout: the DAG file, Airflow loaded
    bag = DagBag(str(DAGS_FOLDER))
    import_seconds = time.perf_counter() - started
    import_cpu_seconds = time.process_time() - started_cpu
    if arguments[0] == "inspect":
        dag = bag.dags.get("larkspur_daily")
        tasks = {} if dag is None else {task.task_id: task for task in dag.tasks}
        print(
            json.dumps(
                {
                    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
                    "import_seconds": import_seconds,
                    "airflow_import_seconds": airflow_seconds,
                    "import_cpu_seconds": import_cpu_seconds,
                    "airflow_import_cpu_seconds": airflow_cpu_seconds,
                    "tasks": {
                        task_id: {
                            "downstream": sorted(task.downstream_task_ids),
                            "upstream": sorted(task.upstream_task_ids),
                            "operator": type(task).__name__,
                            "pool": task.pool,
                            "retries": task.retries,
                            "trigger_rule": getattr(
                                task.trigger_rule, "value", str(task.trigger_rule)
                            ),
                            "dbt_cmd_flags": getattr(task, "dbt_cmd_flags", None),
                            "exclude": getattr(task, "exclude", None),
                        }
                        for task_id, task in tasks.items()
                    },
                    "max_active_runs": dag.max_active_runs if dag else None,
                    "catchup": dag.catchup if dag else None,
                }
            )
        )
        return
    dag = bag.dags["larkspur_daily"]
    # the run for day D comes after D: its logical date is the start of D's data interval
    day = datetime.fromisoformat(arguments[1]).replace(tzinfo=UTC)
    started = time.perf_counter()
    run = dag.test(logical_date=day + timedelta(days=1))
    print(
        json.dumps(
            {
                "state": str(run.state),
                "data_interval_start": run.data_interval_start.isoformat(),
                "seconds": time.perf_counter() - started,
                "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()},
                "task_seconds": {
                    ti.task_id: ti.duration for ti in run.get_task_instances() if ti.duration
                },
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
