"""The same dbt project builds on PostgreSQL from the same sources, with the same numbers.

The PostgreSQL build is the session's `postgres_build` (tests/conftest.py), built from the
sources of `built_warehouse`, whose DuckDB warehouse it is compared with.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import BuiltWarehouse, PostgresBuild

pytestmark = pytest.mark.postgres

# one figure per team, compared between the two warehouses
COMPARED_QUERIES = {
    "order lines": "select count(*), sum(net_amount), sum(net_amount_eur)"
    " from finance.fct_order_lines",
    "payments": "select count(*), sum(amount_eur) from finance.fct_payments",
    "revenue summary": "select count(*), sum(net_revenue_eur) from finance.fct_revenue_daily",
    "attribution": "select channel_code, count(*) from marketing.fct_order_attribution"
    " where attribution_model = 'last_touch' group by channel_code order by channel_code",
    "sessions": "select count(*), sum(event_count) from marketing.fct_sessions",
    "shipments": "select count(*), sum(case when is_on_time then 1 else 0 end),"
    " sum(shipping_cost) from logistics.fct_shipments",
    "inventory": "select count(*), sum(case when is_stock_out then 1 else 0 end)"
    " from logistics.fct_inventory_daily",
}


def test_project_builds_on_postgres(postgres_build: PostgresBuild) -> None:
    assert postgres_build.build.ok, postgres_build.build.failures
    assert postgres_build.build.status_counts["success"] > 60


@pytest.mark.parametrize("figure", sorted(COMPARED_QUERIES))
def test_postgres_marts_equal_duckdb_marts(
    postgres_build: PostgresBuild, built_warehouse: BuiltWarehouse, figure: str
) -> None:
    query = COMPARED_QUERIES[figure]
    connection = postgres_build.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(query)
        postgres_rows = [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()
    with duckdb.connect(str(built_warehouse.paths.duckdb_path), read_only=True) as warehouse:
        duckdb_rows = [tuple(row) for row in warehouse.execute(query).fetchall()]
    assert postgres_rows == duckdb_rows


def test_postgres_refuses_nulls_where_the_marts_declare_not_null(
    postgres_build: PostgresBuild,
) -> None:
    # the constraints a daily build relies on instead of the marts' not_null tests
    # (warehouse.dbt.DAILY_BUILD_EXCLUDE) are enforced on PostgreSQL too
    manifest_path = postgres_build.paths.dbt_target_dir / "manifest.json"
    nodes = json.loads(manifest_path.read_text())["nodes"]
    declared = {
        (node["schema"], node["alias"], column["name"])
        for node in nodes.values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
        for column in node["columns"].values()
        if any(c["type"] == "not_null" for c in column.get("constraints", []))
    }
    assert len(declared) > 100
    connection = postgres_build.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where is_nullable = 'NO'"
        )
        not_null_columns = {tuple(row) for row in cursor.fetchall()}
    finally:
        connection.close()
    assert sorted(declared - not_null_columns) == []
