"""PostgreSQL builds the same project from the same sources into the same marts as DuckDB."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pytest
from psycopg2.extensions import connection as PgConnection

from tests.conftest import PostgresBuild
from warehouse.postgres import MART_SCHEMAS
from warehouse.settings import PROJECT_DIR

pytestmark = pytest.mark.postgres

MART_MODELS = sorted(
    (path.parent.name, path.stem)
    for schema in MART_SCHEMAS
    for path in (PROJECT_DIR / "models" / "marts" / schema).glob("*.sql")
)
NUMERIC_TYPES = {"smallint", "integer", "bigint", "numeric", "real", "double precision"}


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


def aggregate_query(schema: str, model: str, columns: list[tuple[str, str]]) -> str:
    """One row of figures both engines compute alike: row count, rounded sums, distinct counts."""
    figures = ["count(*)"]
    for column, data_type in columns:
        quoted = f'"{column}"'
        if data_type in NUMERIC_TYPES:
            figures.append(f"round(cast(sum({quoted}) as numeric(38, 6)), 2)")
        elif data_type == "boolean":
            figures.append(f"sum(case when {quoted} then 1 else 0 end)")
        else:
            figures.append(f"count(distinct {quoted})")
    return f"select {', '.join(figures)} from {schema}.{model}"


def normalise(value: Any) -> Any:
    """Both drivers return Decimal for the sums; counts come back as int either way."""
    return Decimal(value) if isinstance(value, int | Decimal) else value


@pytest.mark.parametrize(("schema", "model"), MART_MODELS, ids=lambda value: str(value))
def test_mart_matches_duckdb(
    postgres_build: PostgresBuild,
    postgres: PgConnection,
    duckdb_warehouse: duckdb.DuckDBPyConnection,
    schema: str,
    model: str,
) -> None:
    assert postgres_build.build.ok, postgres_build.build.failures
    with postgres.cursor() as cursor:
        cursor.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            [schema, model],
        )
        columns = cursor.fetchall()
        assert columns, f"{schema}.{model} is missing in PostgreSQL"
        query = aggregate_query(schema, model, columns)
        cursor.execute(query)
        postgres_figures = [normalise(value) for value in cursor.fetchone()]
    duckdb_figures = [normalise(value) for value in duckdb_warehouse.execute(query).fetchone()]

    names = ["row count", *(column for column, _ in columns)]
    differences = [
        f"{schema}.{model}.{name}: PostgreSQL {in_postgres} != DuckDB {in_duckdb}"
        for name, in_postgres, in_duckdb in zip(
            names, postgres_figures, duckdb_figures, strict=True
        )
        if in_postgres != in_duckdb
    ]
    assert not differences, f"first difference: {differences[0]} ({len(differences)} in all)"
