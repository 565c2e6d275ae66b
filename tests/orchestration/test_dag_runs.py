"""Whole `dag.test()` runs of `larkspur_daily` on a small simulation, one Airflow for them all:

1. day D (demo mode): its marts equal those `warehouse demo` builds from the same sources;
2. day D+1 with the ads API down: `load_ads` fails after its retries, the failure is recorded
   in raw_meta.airflow_task_failures, only the models that need ads are skipped;
3. day D+2 (demo mode, the simulator adds the day): ads catches up, the marts gain D+1 and D+2
   and keep every earlier row;

then `warehouse airflow`'s UI, opened in Chromium, shows the DAG and its runs.

Runs 2 and 3 are two consecutive logical dates of the daily schedule, the backfill semantics.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, expect

from loaders.registry import api_source_names, source_names
from simulator import simulate
from simulator.api_server import ApiServer
from tests.conftest import WRITE_COLUMNS
from tests.orchestration.conftest import AirflowInstance, free_port, new_airflow_instance
from warehouse.airflow_local import local_airflow
from warehouse.dashboards import DASHBOARDS
from warehouse.docs_site import docs_target_dir
from warehouse.orchestration import (
    DAG_ID,
    FAIL_RUN_TASK_ID,
    FAILURES_SCHEMA,
    FAILURES_TABLE,
    advance_simulation,
    dependents_of_sources,
    freshness_results,
)
from warehouse.settings import PROJECT_DIR

pytestmark = pytest.mark.e2e

SCALE = 0.005
FIRST_DAY = date(2025, 1, 1)
DAYS = 3
DAY = FIRST_DAY + timedelta(days=DAYS - 1)
MART_SCHEMAS = ("core", "finance", "marketing", "logistics")
FAILING_SOURCE = "ads"
# columns that record when or by which run a row was written, not what it says
RUN_COLUMNS = (*WRITE_COLUMNS, "_loaded_at")
# the states of the three runs, as the UI names them
RUN_STATES = ("Success", "Failed", "Success")
SCREENSHOTS = PROJECT_DIR / "artifacts" / "screenshots"
# what the api-server's health check reports on besides itself
HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


@dataclass(frozen=True)
class Runs:
    data_dir: Path
    first_warehouse: Path
    demo_dir: Path
    manifest: dict
    first: dict
    failing: dict
    recovered: dict
    order_lines_by_day: dict[str, dict[date, int]]
    failures: list[tuple]


def mart_tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"{schema}.{table}"
        for schema, table in connection.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database() and table_schema in"
            f" {MART_SCHEMAS} order by all"
        ).fetchall()
    ]


def order_lines_by_day(duckdb_path: Path) -> dict[date, int]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return dict(
            connection.execute(
                "select order_date, count(*) from finance.fct_order_lines group by 1"
            ).fetchall()
        )


@pytest.fixture(scope="module")
def airflow_instance(tmp_path_factory: pytest.TempPathFactory) -> AirflowInstance:
    """An Airflow of these runs alone: its UI must show them and no other test's."""
    return new_airflow_instance(tmp_path_factory.mktemp("airflow_runs_data"))


@pytest.fixture(scope="module")
def runs(airflow_instance: AirflowInstance, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    paths = airflow_instance.paths
    data_dir, duckdb_path = paths.data_dir, paths.duckdb_path
    simulate(data_dir, DAYS, scale=SCALE, start_date=FIRST_DAY)

    demo_dir = tmp_path_factory.mktemp("demo")
    shutil.copytree(data_dir / "sources", demo_dir / "sources")
    demo = subprocess.run(
        [str(Path(sys.executable).parent / "warehouse"), "demo", "--data-dir", str(demo_dir)],
        cwd=PROJECT_DIR,
        env={**airflow_instance.environment, "WAREHOUSE_DUCKDB_PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]

    by_day = {}
    first = airflow_instance.run_dag("test", DAY.isoformat(), LARKSPUR_SIMULATE="1")
    by_day["first"] = order_lines_by_day(duckdb_path)
    # the warehouse as the first run left it, for the comparison with the demo
    first_warehouse = tmp_path_factory.mktemp("first_run") / "warehouse.duckdb"
    shutil.copyfile(duckdb_path, first_warehouse)

    # day D+1 arrives, the ads API is down; the other APIs are served as a vendor would
    advance_simulation(DAY + timedelta(days=1), paths)
    token = secrets.token_urlsafe(24)
    server = ApiServer(data_dir, port=0, token=token)
    server.start()
    try:
        apis = {}
        for name in api_source_names():
            apis[f"SOURCES__{name.upper()}__BASE_URL"] = f"{server.base_url}/{name}/v1"
            apis[f"SOURCES__{name.upper()}__TOKEN"] = token
        apis[f"SOURCES__{FAILING_SOURCE.upper()}__BASE_URL"] = (
            f"http://127.0.0.1:{free_port()}/{FAILING_SOURCE}/v1"
        )
        failing = airflow_instance.run_dag(
            "test",
            (DAY + timedelta(days=1)).isoformat(),
            LARKSPUR_SIMULATE="0",
            LARKSPUR_LOAD_RETRY_DELAY="0",
            **apis,
        )
    finally:
        server.stop()
    by_day["failing"] = order_lines_by_day(duckdb_path)
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        failures = connection.execute(
            f"select task_id, try_number, interval_start, error"
            f" from {FAILURES_SCHEMA}.{FAILURES_TABLE} order by failed_at"
        ).fetchall()

    recovered = airflow_instance.run_dag(
        "test", (DAY + timedelta(days=2)).isoformat(), LARKSPUR_SIMULATE="1"
    )
    by_day["recovered"] = order_lines_by_day(duckdb_path)
    return Runs(
        data_dir=data_dir,
        first_warehouse=first_warehouse,
        demo_dir=demo_dir,
        manifest=json.loads(airflow_instance.manifest.read_text()),
        first=first,
        failing=failing,
        recovered=recovered,
        order_lines_by_day=by_day,
        failures=failures,
    )


def test_a_whole_run_succeeds_and_builds_what_the_demo_builds(runs: Runs) -> None:
    slowest = sorted(runs.first["task_seconds"].items(), key=lambda item: -item[1])[:5]
    print(
        f"dag.test() of day {DAY}: {runs.first['seconds']:.0f} s; slowest tasks: "
        + ", ".join(f"{task} {seconds:.0f} s" for task, seconds in slowest)
    )
    assert runs.first["state"] == "success", runs.first["tasks"]
    assert runs.first["data_interval_start"].startswith(DAY.isoformat())
    states = set(runs.first["tasks"].values())
    # every model task reports success (a model dbt had nothing to do for reports skipped)
    assert states <= {"success", "skipped"}, runs.first["tasks"]
    assert runs.first["tasks"]["dbt.dbt_producer_watcher"] == "success"

    with duckdb.connect(str(runs.first_warehouse), read_only=True) as connection:
        connection.execute(f"attach '{runs.demo_dir / 'warehouse.duckdb'}' as demo (read_only)")
        tables = mart_tables(connection)
        assert len(tables) > 20
        differing = {}
        for table in tables:
            schema, name = table.split(".")
            columns = [
                column
                for (column,) in connection.execute(
                    "select column_name from information_schema.columns"
                    " where table_catalog = current_database() and table_schema = ?"
                    " and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
                if column not in RUN_COLUMNS
            ]
            selected = ", ".join(f'"{column}"' for column in columns)
            only_here, only_in_demo, rows = connection.execute(
                f"""
                select
                    (select count(*) from (select {selected} from {table}
                        except all select {selected} from demo.{table})),
                    (select count(*) from (select {selected} from demo.{table}
                        except all select {selected} from {table})),
                    (select count(*) from {table})
                """
            ).fetchone()
            if only_here or only_in_demo:
                differing[table] = (only_here, only_in_demo, rows)
        assert differing == {}


def test_a_failing_source_fails_its_load_after_retries_and_skips_only_its_models(
    runs: Runs,
) -> None:
    tasks = runs.failing["tasks"]
    assert runs.failing["state"] == "failed"
    assert tasks[f"load_{FAILING_SOURCE}"] == "failed"
    assert "simulate_day" not in tasks
    # the three tries (two retries), each recorded by the failure callback
    recorded = [row for row in runs.failures if row[0] == f"load_{FAILING_SOURCE}"]
    assert [row[1] for row in recorded] == [3]
    assert recorded[0][2].startswith((DAY + timedelta(days=1)).isoformat())
    assert FAILING_SOURCE in recorded[0][3]

    skipped_models = {
        runs.manifest["nodes"][node]["name"]
        for node in dependents_of_sources(runs.manifest, [FAILING_SOURCE])
        if node.startswith("model.")
    }
    assert skipped_models
    for task_id, state in tasks.items():
        model = task_id.split(".")[1] if task_id.startswith("dbt.") else None
        if model in skipped_models:
            assert state in {"skipped", "upstream_failed"}, (task_id, state)
        elif task_id not in {f"load_{FAILING_SOURCE}", FAIL_RUN_TASK_ID}:
            assert state in {"success", "skipped"}, (task_id, state)
    # the last task turns the failed load into a failed run
    assert tasks[FAIL_RUN_TASK_ID] == "failed"
    # every fact and dimension that does not need ads was built (not skipped) on the failing day
    marts = {
        node["name"]
        for node in runs.manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"].startswith(("fct_", "dim_"))
    }
    built = {name for name in marts if tasks.get(f"dbt.{name}.run") == "success"}
    assert built == marts - skipped_models
    assert {"fct_order_lines", "fct_shipments", "dim_customer"} <= built


def test_the_next_day_recovers_and_adds_exactly_the_new_days(runs: Runs) -> None:
    assert runs.recovered["state"] == "success", runs.recovered["tasks"]
    assert runs.recovered["tasks"]["simulate_day"] == "success"
    first, failing, recovered = (
        runs.order_lines_by_day[run] for run in ("first", "failing", "recovered")
    )
    assert max(first) == DAY
    # the failing day added its own order lines; the recovered day its own; no earlier day moved
    assert set(failing) - set(first) == {DAY + timedelta(days=1)}
    assert set(recovered) - set(failing) == {DAY + timedelta(days=2)}
    assert {day: recovered[day] for day in first} == first
    assert {day: recovered[day] for day in failing} == failing
    with duckdb.connect(str(runs.data_dir / "warehouse.duckdb"), read_only=True) as connection:
        # ads caught up: its spend reaches the recovered day
        last_spend = connection.execute(
            "select max(report_date) from marketing.fct_ad_spend_daily"
        ).fetchone()[0]
    assert last_spend == DAY + timedelta(days=2)


def test_the_docs_site_shows_the_freshness_the_run_checked(
    runs: Runs, airflow_instance: AirflowInstance
) -> None:
    # `dbt source freshness` runs once per run, in its own task; the docs site reads its result
    paths = airflow_instance.paths
    checked = json.loads(freshness_results(paths).read_text())
    shown = json.loads((docs_target_dir(paths) / "sources.json").read_text())
    assert runs.recovered["tasks"]["source_freshness"] == "success"
    assert shown["metadata"]["invocation_id"] == checked["metadata"]["invocation_id"]
    # each source's freshness is its last completed load
    assert {result["unique_id"] for result in shown["results"]} == {
        f"source.larkspur.{name}._dlt_loads" for name in source_names()
    }
    # the report pages, drawn by the docs task from the run's warehouse through MetricFlow
    for dashboard in DASHBOARDS:
        page = (paths.docs_dir / dashboard.page).read_text(encoding="utf-8")
        assert 'id="report-problem"' not in page, dashboard.page
        assert page.count('<figure class="chart"') == len(dashboard.charts), dashboard.page


def test_the_airflow_ui_shows_the_dag_and_its_runs(
    runs: Runs, airflow_instance: AirflowInstance, browser: Browser
) -> None:
    # `warehouse airflow` on the folder the runs above used: its UI lists their outcomes
    base_url = f"http://127.0.0.1:{airflow_instance.port}"
    log_dir = airflow_instance.paths.data_dir / "airflow" / "ui-test-logs"
    with local_airflow(airflow_instance.paths, airflow_instance.port, log_dir) as processes:
        health = wait_for_health(base_url, processes)
        # every component a scheduled run needs heartbeats; without a triggerer the watchers
        # of the tests on two models stay deferred and the run never ends
        assert {name: health[name]["status"] for name in HEALTH_COMPONENTS} == dict.fromkeys(
            HEALTH_COMPONENTS, "healthy"
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base_url}/dags")
        expect(page.get_by_role("link", name=DAG_ID, exact=True)).to_be_visible(timeout=30_000)
        page.goto(f"{base_url}/dags/{DAG_ID}/runs")
        # the three runs above: the one with the ads API down failed
        expect(page.get_by_text(f"{len(RUN_STATES)} Dag Runs")).to_be_visible(timeout=30_000)
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(len(RUN_STATES))
        for state, count in Counter(RUN_STATES).items():
            expect(rows.filter(has_text=state)).to_have_count(count)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "airflow_runs.png"))
        page.close()
    assert [process.poll() is not None for process in processes] == [True] * len(processes)


def wait_for_health(base_url: str, processes: list[subprocess.Popen], seconds: int = 180) -> dict:
    """The api-server's health report once every component reports healthy (or at the deadline,
    whatever it says then); fail if a process ends or the api-server never answers."""
    deadline = time.monotonic() + seconds
    health: dict | None = None
    while time.monotonic() < deadline:
        ended = [process.args for process in processes if process.poll() is not None]
        assert ended == [], f"an Airflow process ended: {ended}"
        try:
            with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=5) as answer:
                health = json.load(answer)
        except OSError:
            health = None
        if health and all(health[name]["status"] == "healthy" for name in HEALTH_COMPONENTS):
            return health
        time.sleep(1)
    if health is None:
        pytest.fail(f"the Airflow api-server did not answer on {base_url} in {seconds} s")
    return health
