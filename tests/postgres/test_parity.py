"""PostgreSQL builds the same project from the same sources into the same marts as DuckDB."""

from __future__ import annotations

import duckdb
import pytest
from psycopg2.extensions import connection as PgConnection

from tests.conftest import PostgresBuild
from tests.parity import aggregate_query, differences, figure_kind, mart_relations

pytestmark = pytest.mark.postgres


def test_every_source_loads_into_postgres(postgres_build: PostgresBuild) -> None:
    report = postgres_build.load_report
    assert report.ok, [result.error for result in report.results if not result.ok]
    assert report.destination == "postgres"
    assert [result.name for result in report.results] == [
        "shop",
        "payments",
        "ads",
        "fx",
        "web",
        "logistics",
    ]
    assert all(sum(result.rows.values()) > 0 for result in report.results)


def test_project_builds_on_postgres(postgres_build: PostgresBuild) -> None:
    build = postgres_build.build
    assert build.ok, build.failures
    assert build.status_counts["error"] == build.status_counts["fail"] == 0
    # every model, seed and snapshot, and every data test
    assert build.status_counts["success"] > 60
    assert build.status_counts["pass"] > 200


@pytest.mark.parametrize("relation", mart_relations())
def test_mart_matches_duckdb(
    postgres_build: PostgresBuild,
    postgres: PgConnection,
    duckdb_warehouse: duckdb.DuckDBPyConnection,
    relation: str,
) -> None:
    assert postgres_build.build.ok, postgres_build.build.failures
    schema, model = relation.split(".")
    with postgres.cursor() as cursor:
        cursor.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            [schema, model],
        )
        columns = [(name, figure_kind(data_type)) for name, data_type in cursor.fetchall()]
        assert columns, f"{relation} is missing in PostgreSQL"
        query = aggregate_query(relation, columns)
        cursor.execute(query)
        figures = {"PostgreSQL": cursor.fetchone()}
    figures["DuckDB"] = duckdb_warehouse.execute(query).fetchone()

    found = differences(relation, [name for name, _ in columns], figures)
    assert not found, f"first difference: {found[0]} ({len(found)} in all)"
