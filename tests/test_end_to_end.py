"""The whole chain as a newcomer runs it: `warehouse demo` simulates, loads, builds and documents.

These tests read the warehouse the demo built and compare it with the simulated source systems
themselves (the shop's SQLite database, the ground-truth manifest), not with the loader's own
report.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator

import duckdb
import pytest

from tests.conftest import BuiltWarehouse

pytestmark = pytest.mark.e2e

RAW_SCHEMAS = ("raw_shop", "raw_payments", "raw_ads", "raw_fx", "raw_web", "raw_logistics")
MODEL_SCHEMAS = ("staging", "ods", "core", "finance", "marketing", "logistics")


@pytest.fixture(scope="module")
def demo(built_warehouse: BuiltWarehouse) -> BuiltWarehouse:
    assert built_warehouse.returncode == 0, built_warehouse.output[-4000:]
    return built_warehouse


@pytest.fixture
def warehouse(demo: BuiltWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    # Per test, and closed after it: a connection left open would hold the file's lock.
    connection = duckdb.connect(str(demo.paths.duckdb_path), read_only=True)
    yield connection
    connection.close()


def non_empty_relations(connection: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    names = connection.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]
    ).fetchall()
    counts = {
        name: connection.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        for (name,) in names
        if not name.startswith("_dlt")
    }
    return {name: count for name, count in counts.items() if count > 0}


@pytest.mark.parametrize("schema", RAW_SCHEMAS + MODEL_SCHEMAS)
def test_every_layer_holds_data(warehouse: duckdb.DuckDBPyConnection, schema: str) -> None:
    assert non_empty_relations(warehouse, schema), f"no non-empty table in schema {schema}"


def test_demo_summary_reports_build_and_where_to_look(demo: BuiltWarehouse) -> None:
    output = demo.output
    assert " 0 failed" in output
    assert str(demo.paths.duckdb_path) in output
    assert "warehouse docs --serve" in output
    for source in ("shop", "payments", "ads", "fx", "web", "logistics"):
        assert source in output


def test_docs_site_is_generated(demo: BuiltWarehouse) -> None:
    page = demo.paths.docs_dir / "index.html"
    assert page.stat().st_size > 100_000
    assert "fct_order_lines" in page.read_text(errors="ignore")


def test_orders_reach_the_ods_once_each(demo: BuiltWarehouse, warehouse) -> None:
    with sqlite3.connect(demo.paths.sources_dir / "shop.sqlite") as shop:
        source_orders = {number for (number,) in shop.execute("select order_number from orders")}
    rows = warehouse.execute("select order_number from ods.ods_orders").fetchall()
    ods_orders = [number for (number,) in rows]
    assert len(ods_orders) == len(set(ods_orders))
    assert set(ods_orders) == source_orders


def test_order_line_revenue_matches_the_shop(demo: BuiltWarehouse, warehouse) -> None:
    with sqlite3.connect(demo.paths.sources_dir / "shop.sqlite") as shop:
        (source_lines, source_quantity) = shop.execute(
            "select count(*), sum(quantity) from order_lines"
        ).fetchone()
    (mart_lines, mart_quantity) = warehouse.execute(
        "select count(*), sum(quantity) from finance.fct_order_lines"
    ).fetchone()
    assert (mart_lines, mart_quantity) == (source_lines, source_quantity)


def test_simulated_days_all_reach_the_date_dimension(demo: BuiltWarehouse, warehouse) -> None:
    state = json.loads((demo.paths.sources_dir / "simulator_state.json").read_text())
    first_order_day, last_order_day = warehouse.execute(
        "select min(ordered_at)::date, max(ordered_at)::date from ods.ods_orders"
    ).fetchone()
    assert str(first_order_day) >= state["start_date"]
    covered = warehouse.execute(
        "select count(*) from core.dim_date where date_day between ? and ?",
        [first_order_day, last_order_day],
    ).fetchone()[0]
    assert covered == (last_order_day - first_order_day).days + 1


def run_cli(*args: str, data_dir) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "160"},
    )


def test_query_command_reads_the_warehouse(demo: BuiltWarehouse) -> None:
    result = run_cli(
        "query", "select count(*) as orders from ods.ods_orders", data_dir=demo.paths.data_dir
    )
    assert result.returncode == 0, result.stderr
    assert "orders" in result.stdout


def test_locked_warehouse_is_one_clear_line(demo: BuiltWarehouse) -> None:
    # Another process holds the file for writing, as a running load or dbt would.
    hold_lock = (
        "import duckdb, sys, time; connection = duckdb.connect(sys.argv[1]); "
        "print('locked', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold_lock, str(demo.paths.duckdb_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run_cli("build", data_dir=demo.paths.data_dir)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "in use by another process" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_source_is_one_clear_line(demo: BuiltWarehouse) -> None:
    result = run_cli("load", "no_such_source", data_dir=demo.paths.data_dir)
    assert result.returncode == 1
    assert "no_such_source" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_status_shows_every_source_and_the_last_build(demo: BuiltWarehouse) -> None:
    result = run_cli("status", data_dir=demo.paths.data_dir)
    assert result.returncode == 0, result.stderr
    source_lines = {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.startswith("│")
    }
    assert set(source_lines) == {"shop", "payments", "ads", "fx", "web", "logistics"}
    assert all(line.rstrip("│ ").endswith("ok") for line in source_lines.values())
    assert "Last dbt build" in result.stdout
    assert " error" not in result.stdout.split("Last dbt build")[1]


def test_query_command_runs_a_sql_file(demo: BuiltWarehouse, tmp_path) -> None:
    sql_file = tmp_path / "orders.sql"
    # A leading comment: the CLI must not mistake the SQL for an option.
    sql_file.write_text("-- all orders\nselect count(*) as order_total from ods.ods_orders\n")
    result = run_cli("query", "--file", str(sql_file), data_dir=demo.paths.data_dir)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(demo.paths.sources_dir / "shop.sqlite") as shop:
        (source_orders,) = shop.execute("select count(*) from orders").fetchone()
    assert f"│ {source_orders}" in result.stdout
