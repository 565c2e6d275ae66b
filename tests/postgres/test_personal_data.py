"""Emails and phone numbers stay in raw and staging; beyond them only keyed hashes remain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest
from psycopg2.extensions import connection as PgConnection

from tests.conftest import PostgresBuild
from warehouse.postgres import MART_SCHEMAS

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# what the shop's phone column holds: "0449543716", "+44(0)20 74960392", "+1-652-528-8259x155"
PHONE = r"^\s*[+(]?[0-9][0-9 ().-]{5,}[0-9]\s*(x[0-9]+)?$"
SCANNED_SCHEMAS = ("ods", "snapshots", *MART_SCHEMAS)
# dlt's load ids (epoch seconds with a fraction, in _dlt_load_id and copies of it) would pass
# for phone numbers
LOAD_ID = r"^[0-9]{10}[.][0-9]+$"

Query = Callable[[str, list[Any]], list[tuple[Any, ...]]]
# how each engine says "this column contains a match of this pattern"
DUCKDB_MATCH = "regexp_matches({column}, ?)"
POSTGRES_MATCH = "{column} ~ ?"


def personal_values(
    query: Query, match: str, schemas: tuple[str, ...], text_type: str
) -> dict[str, str]:
    """Every text column of ``schemas`` holding an email- or phone-like value, with an example."""
    placeholders = ", ".join(["?"] * len(schemas))
    columns = query(
        "select table_schema, table_name, column_name from information_schema.columns"
        f" where table_schema in ({placeholders}) and data_type = ?",
        [*schemas, text_type],
    )
    found = {}
    for schema, table, column in columns:
        condition = match.format(column=f'"{column}"')
        rows = query(
            f'select min("{column}") from {schema}.{table}'
            f" where ({condition} or {condition}) and not {condition}",
            [EMAIL, PHONE, LOAD_ID],
        )
        if rows[0][0] is not None:
            found[f"{schema}.{table}.{column}"] = rows[0][0]
    return found


def duckdb_query(connection: duckdb.DuckDBPyConnection) -> Query:
    def run(sql: str, parameters: list[Any]) -> list[tuple[Any, ...]]:
        return connection.execute(sql, parameters).fetchall()

    return run


def postgres_query(connection: PgConnection) -> Query:
    def run(sql: str, parameters: list[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), parameters)
            return cursor.fetchall()

    return run


def test_detector_finds_the_personal_data_in_staging(
    duckdb_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    found = personal_values(duckdb_query(duckdb_warehouse), DUCKDB_MATCH, ("staging",), "VARCHAR")
    assert {"staging.stg_shop__customers.email", "staging.stg_shop__customers.phone"} <= set(found)


def test_no_personal_data_beyond_staging_in_duckdb(
    duckdb_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    query = duckdb_query(duckdb_warehouse)
    assert personal_values(query, DUCKDB_MATCH, SCANNED_SCHEMAS, "VARCHAR") == {}


@pytest.mark.postgres
def test_no_personal_data_beyond_staging_in_postgres(postgres: PgConnection) -> None:
    query = postgres_query(postgres)
    staging = personal_values(query, POSTGRES_MATCH, ("staging",), "text")
    assert "staging.stg_shop__customers.phone" in staging
    assert personal_values(query, POSTGRES_MATCH, SCANNED_SCHEMAS, "text") == {}


@pytest.mark.postgres
def test_hashes_are_keyed_with_the_secret_key(
    postgres_build: PostgresBuild,
    postgres: PgConnection,
    duckdb_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    """The same email hashes differently under the production key than under the dev key."""
    sql = "select customer_id, email_hash from ods.ods_customers order by customer_id limit 20"
    with postgres.cursor() as cursor:
        cursor.execute(sql)
        in_postgres = dict(cursor.fetchall())
        cursor.execute(
            "select md5(%s || email) from staging.stg_shop__customers where customer_id = %s",
            [postgres_build.pii_hash_key, min(in_postgres)],
        )
        assert cursor.fetchone()[0] == in_postgres[min(in_postgres)]
    in_duckdb = dict(duckdb_warehouse.execute(sql).fetchall())
    assert in_postgres.keys() == in_duckdb.keys()
    assert all(in_postgres[key] != in_duckdb[key] for key in in_postgres)


@pytest.mark.postgres
def test_key_is_in_no_compiled_sql_or_log(postgres_build: PostgresBuild) -> None:
    dbt_folder = postgres_build.paths.dbt_target_dir.parent
    files = [path for path in dbt_folder.rglob("*") if path.is_file()]
    assert any(path.name == "dbt.log" for path in files)
    assert any("stg_shop__customers.sql" in path.name for path in files)
    leaking = [
        str(path) for path in files if postgres_build.pii_hash_key.encode() in path.read_bytes()
    ]
    assert leaking == []
