"""Incremental models give exactly what a full refresh gives after more simulated days."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from tests.models.conftest import (
    INCREMENTAL_MODELS,
    INVOCATION_COLUMN,
    ModelsWarehouse,
    differences_from_rebuild,
    reads_relation,
    scalar,
)
from warehouse.cli import build_warehouse
from warehouse.dbt import DAILY_BUILD_EXCLUDE, build_arguments


def test_builds_succeed(models_warehouse: ModelsWarehouse) -> None:
    for result in (
        models_warehouse.first_build,
        models_warehouse.incremental_build,
        models_warehouse.daily_build,
        models_warehouse.full_refresh,
    ):
        assert result.ok, result.failures
    # models, seeds and snapshots succeed; data and unit tests pass (or only warn)
    assert models_warehouse.incremental_build.status_counts["success"] > 60
    assert models_warehouse.incremental_build.status_counts["pass"] > 300


def test_every_incremental_model_is_compared() -> None:
    # found by their config; the large facts and the web and logistics ODS models among them
    assert {
        "ods_web_events",
        "ods_web_sessions",
        "ods_web_identities",
        "ods_tracking_events",
        "ods_shipments",
        "ods_inventory_snapshots",
        "ods_order_lines",
        "fct_sessions",
        "fct_shipment_events",
    } <= set(INCREMENTAL_MODELS)


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_run_equals_full_refresh(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection, model: str
) -> None:
    only_incremental, only_full, full_rows = differences_from_rebuild(
        warehouse, model, models_warehouse.incremental_copies[model]
    )
    assert full_rows > 0
    assert (only_incremental, only_full) == (0, 0)


def test_daily_run_tests_only_the_rows_it_wrote(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    results = models_warehouse.daily_run_results
    invocation_id = results["metadata"]["invocation_id"]
    unique_test = next(
        node
        for node in results["results"]
        if node["unique_id"].startswith("test.larkspur.unique_ods_web_events_event_id")
    )
    assert f"{INVOCATION_COLUMN} = '{invocation_id}'" in unique_test["compiled_code"]
    # the daily run wrote a day's events (and the days its late events belong to), not 50 days
    written, held = warehouse.execute(
        f"select count(*) filter (where {INVOCATION_COLUMN} = ?), count(*)"
        " from incremental_copy.ods_web_events",
        [invocation_id],
    ).fetchone()
    assert 0 < written < held / 10
    # a test of a table that is rebuilt in full still reads every row
    table_test = next(
        node
        for node in results["results"]
        if node["unique_id"].startswith("test.larkspur.unique_ods_customers_customer_id")
    )
    assert INVOCATION_COLUMN not in table_test["compiled_code"]


def test_daily_run_watermarks_are_values_the_warehouse_can_push_into_its_scans(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    # A watermark written as a scalar subquery is joined after the scan of every raw row; as a
    # value, the filter reaches the completed loads and prunes the raw table by load id.
    compiled = {
        node["unique_id"]: node["compiled_code"] or ""
        for node in models_warehouse.daily_run_results["results"]
    }
    assert not [node for node, code in compiled.items() if "max(held._loaded_at)" in code]
    # the daily run brought the newest load; the watermark is the one before it
    newest, previous = (
        str(loaded_at)
        for (loaded_at,) in warehouse.execute(
            "select distinct _loaded_at from incremental_copy.ods_web_events"
            " order by 1 desc limit 2"
        ).fetchall()
    )
    web_events = compiled["model.larkspur.ods_web_events"]
    assert f"_loaded_at > cast('{previous}' as timestamp)" in web_events
    assert newest not in web_events
    staging_test = next(
        code
        for node, code in compiled.items()
        if node.startswith("test.larkspur.not_null_stg_web__events_event_id")
    )
    # one value per reader: ods_web_events, and the models that find the visitors a load
    # changed in every delivery of its events, the newest load each holds
    web_readers = ("ods_web_events", "ods_web_identities", "ods_web_sessions", "fct_sessions")
    readers = (*web_readers, "ods_order_attribution")
    condition = staging_test.split("where _loaded_at > least(", 1)[1].split(") dbt_subquery")[0]
    timestamp_literal = r"cast\('([^']+)' as timestamp\)"
    assert re.sub(timestamp_literal, "", condition).replace(",", "").strip() == ")"
    watermarks = re.findall(timestamp_literal, condition)
    assert len(watermarks) == len(readers)
    # the web models processed the same loads
    assert watermarks.count(previous) >= len(web_readers)


def test_daily_run_looks_up_the_deliveries_of_the_days_web_events_once(
    models_warehouse: ModelsWarehouse,
) -> None:
    # Finding every delivery of the day's events reads the event id of every raw event: the
    # models keyed by visitor take theirs from the table that did it once for all of them.
    readers = sorted(
        node["unique_id"].removeprefix("model.larkspur.")
        for node in models_warehouse.daily_run_results["results"]
        if node["unique_id"].startswith("model.")
        and reads_relation(node["compiled_code"] or "", "stg_web__events")
    )
    assert readers == ["int_web_recent_event_deliveries", "ods_web_events"]


def test_incremental_run_picked_up_the_later_days(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    # The later days' events are in the incremental copy, not just the first build's.
    loads = scalar(
        warehouse, "select count(distinct _dlt_load_id) from incremental_copy.ods_web_events"
    )
    assert loads == 3
    last_event_date = scalar(
        warehouse, "select max(event_date) from incremental_copy.ods_web_events"
    )
    assert str(last_event_date) == "2025-02-19"


def test_full_build_tests_every_row(models_warehouse: ModelsWarehouse) -> None:
    # `warehouse build --full`: the nightly check reads every row, also where this run wrote
    # none, and runs the unit tests, which a daily build leaves out
    paths = models_warehouse.paths
    for full_check in (False, True):
        result = build_warehouse(
            paths,
            select="ods_tracking_events ods_fx_rates_daily",
            full_check=full_check,
            target="dev",
            quiet=True,
        )
        assert result.ok, result.failures
        run_results = json.loads((paths.dbt_target_dir / "run_results.json").read_text())
        not_null_test = next(
            node
            for node in run_results["results"]
            if node["unique_id"].startswith(
                "test.larkspur.not_null_ods_tracking_events_tracking_event_id"
            )
        )
        assert (INVOCATION_COLUMN in not_null_test["compiled_code"]) is not full_check
        unit_tests = [
            node["unique_id"].rsplit(".", 1)[-1]
            for node in run_results["results"]
            if node["unique_id"].startswith("unit_test.")
        ]
        assert unit_tests == (["test_fx_rates_carried_forward_over_weekend"] if full_check else [])


def test_daily_build_leaves_the_marts_not_null_checks_to_their_constraints(
    models_warehouse: ModelsWarehouse,
) -> None:
    # a daily build runs no not_null test of a mart: the warehouse refuses a null in each of
    # those columns on every write (the full check and a full refresh still run the tests)
    manifest = json.loads((models_warehouse.paths.dbt_target_dir / "manifest.json").read_text())
    nodes = manifest["nodes"]
    checked_columns = {
        unique_id: (nodes[test["attached_node"]], test["column_name"])
        for unique_id, test in nodes.items()
        if test["resource_type"] == "test"
        and (test.get("test_metadata") or {}).get("name") == "not_null"
        and nodes[test["attached_node"]]["fqn"][1] == "marts"
    }
    assert len(checked_columns) > 100
    ran = {node["unique_id"] for node in models_warehouse.daily_run_results["results"]}
    assert sorted(ran & set(checked_columns)) == []
    with models_warehouse.connect() as warehouse:
        not_null_columns = {
            (schema, table, column)
            for schema, table, columns in warehouse.execute(
                "select schema_name, table_name, constraint_column_names from duckdb_constraints()"
                " where constraint_type = 'NOT NULL'"
            ).fetchall()
            for column in columns
        }
    unguarded = [
        f"{model['name']}.{column}"
        for model, column in checked_columns.values()
        if (model["schema"], model["alias"], column) not in not_null_columns
    ]
    assert unguarded == []


def test_audit_holds_the_failing_rows_of_failing_tests_only(
    models_warehouse: ModelsWarehouse,
) -> None:
    # macros/materialization_test.sql: a test stores its failing rows in `audit` only when it
    # has some, and a test that passes drops the table an earlier failure left
    paths = models_warehouse.paths
    manifest = json.loads((paths.dbt_target_dir / "manifest.json").read_text())
    tests = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test"
        and node.get("attached_node") == "model.larkspur.ods_tracking_events"
    }
    stale = next(
        node["alias"] for node in tests.values() if node["column_name"] == "tracking_event_id"
    )
    with duckdb.connect(str(paths.duckdb_path)) as connection:
        connection.execute(f"create or replace table audit.{stale} as select 1 as failing_row")
    result = build_warehouse(
        paths, select="ods_tracking_events", full_check=True, target="dev", quiet=True
    )
    assert result.ok, result.failures
    run_results = json.loads((paths.dbt_target_dir / "run_results.json").read_text())
    outcomes = {
        tests[node["unique_id"]]["alias"]: (node["status"], node["failures"])
        for node in run_results["results"]
        if node["unique_id"] in tests
    }
    with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
        stored = {
            table: scalar(connection, f"select count(*) from audit.{table}")
            for (table,) in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'audit'"
            ).fetchall()
            if table in outcomes
        }
    statuses = {status for status, _ in outcomes.values()}
    assert {"pass", "warn"} <= statuses, outcomes
    assert stored == {
        alias: failures for alias, (status, failures) in outcomes.items() if status != "pass"
    }


def test_daily_build_runs_no_unit_tests(models_warehouse: ModelsWarehouse) -> None:
    ran = models_warehouse.daily_run_results["results"]
    assert len(ran) > 300
    assert [node for node in ran if node["unique_id"].startswith("unit_test.")] == []


@pytest.mark.parametrize(
    ("target", "leaves_not_null_out"), [(None, True), ("postgres", True), ("spark", False)]
)
def test_a_daily_build_keeps_the_not_null_tests_where_the_warehouse_does_not_enforce_them(
    target: str | None, leaves_not_null_out: bool
) -> None:
    # Spark's plain Parquet tables accept a null in a column the contract declares not null,
    # so there the tests are the only check left
    arguments = build_arguments(target=target)
    assert ("--exclude" in arguments and DAILY_BUILD_EXCLUDE in arguments) is leaves_not_null_out
    assert "unit_test" in arguments
