"""Each role may do its own step and is refused everything else."""

from __future__ import annotations

import pytest
from psycopg2 import errors

from tests.conftest import PostgresBuild
from warehouse.dbt import run_dbt
from warehouse.errors import WarehouseError
from warehouse.postgres import ROLE_PREFIX_ENV, role_names, setup_roles
from warehouse.settings import temporary_environment

pytestmark = pytest.mark.postgres

# (role kind, statement): what each role must be able to do
ALLOWED = [
    ("reporter", "select count(*) from finance.fct_order_lines"),
    ("reporter", "select count(*) from core.dim_customer"),
    ("reporter", "select count(*) from marketing.fct_sessions"),
    ("reporter", "select count(*) from logistics.fct_shipments"),
    ("loader", "select count(*) from raw_shop.customers"),
    ("loader", "create table raw_shop.loader_may_create (id int)"),
    ("loader", "delete from raw_fx.rates"),
    ("transformer", "select count(*) from raw_shop.customers"),
    ("transformer", "select count(*) from pii_keys.hash_key"),
    ("transformer", "create table staging.transformer_may_create (id int)"),
    ("transformer", "delete from finance.fct_payments"),
]
# (role kind, statement): what each role is refused
REFUSED = [
    ("reporter", "select count(*) from raw_shop.customers"),
    ("reporter", "select count(*) from staging.stg_shop__customers"),
    ("reporter", "select count(*) from ods.ods_customers"),
    ("reporter", "select count(*) from snapshots.customers_snapshot"),
    ("reporter", "select count(*) from pii_keys.hash_key"),
    ("reporter", "insert into finance.fct_payments select * from finance.fct_payments limit 1"),
    ("reporter", "update core.dim_customer set segment = 'x'"),
    ("reporter", "delete from finance.fct_order_lines"),
    ("reporter", "drop table finance.fct_order_lines"),
    ("reporter", "create table finance.reporter_table (id int)"),
    ("reporter", "create table public.reporter_table (id int)"),
    ("reporter", "create schema reporter_schema"),
    ("loader", "select count(*) from finance.fct_order_lines"),
    ("loader", "create table finance.loader_table (id int)"),
    ("loader", "drop table core.dim_customer"),
    ("loader", "select count(*) from staging.stg_shop__customers"),
    ("loader", "create table staging.loader_table (id int)"),
    ("loader", "create schema not_raw"),
    ("loader", "create table public.loader_table (id int)"),
    ("loader", "select count(*) from pii_keys.hash_key"),
    ("transformer", "drop table raw_shop.customers"),
    ("transformer", "drop schema raw_shop cascade"),
    ("transformer", "delete from raw_shop.customers"),
    ("transformer", "truncate raw_web.events"),
    ("transformer", "update raw_shop.orders set status = 'x'"),
    ("transformer", "insert into raw_fx.rates select * from raw_fx.rates limit 1"),
    ("transformer", "create table raw_shop.transformer_table (id int)"),
    ("transformer", "create schema transformer_schema"),
]


def run_as(postgres_build: PostgresBuild, kind: str, statement: str) -> None:
    """Run one statement as a role, always rolled back so that allowed writes leave no trace."""
    role = getattr(postgres_build.warehouse.roles, kind)
    connection = postgres_build.connect(role)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.rollback()
        connection.close()


@pytest.mark.parametrize(("kind", "statement"), ALLOWED)
def test_role_may(postgres_build: PostgresBuild, kind: str, statement: str) -> None:
    assert postgres_build.build.ok, postgres_build.build.failures
    run_as(postgres_build, kind, statement)


@pytest.mark.parametrize(("kind", "statement"), REFUSED)
def test_role_is_refused(postgres_build: PostgresBuild, kind: str, statement: str) -> None:
    assert postgres_build.build.ok, postgres_build.build.failures
    with pytest.raises(errors.InsufficientPrivilege):
        run_as(postgres_build, kind, statement)


def test_roles_log_in_with_scram_passwords(postgres_build: PostgresBuild) -> None:
    """setup_roles stores the passwords from the environment as SCRAM verifiers only."""
    connection = postgres_build.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select rolname, rolcanlogin, rolpassword like 'SCRAM-SHA-256$%%'"
                " from pg_authid where rolname like %s order by rolname",
                [f"{postgres_build.prefix}%"],
            )
            roles = cursor.fetchall()
    finally:
        connection.close()
    prefix = postgres_build.prefix
    assert roles == [
        (f"{prefix}loader", True, True),
        (f"{prefix}reporter", True, True),
        (f"{prefix}transformer", True, True),
    ]


def test_setup_roles_again_and_rebuild_keeps_marts_readable(
    postgres_build: PostgresBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setting up twice is harmless, and dbt re-grants the reporter's SELECT on a rebuilt mart."""
    warehouse = postgres_build.warehouse
    monkeypatch.setenv(ROLE_PREFIX_ENV, postgres_build.prefix)
    setup_roles(warehouse.admin_url, warehouse.database)
    assert role_names() == warehouse.roles
    monkeypatch.setenv("WAREHOUSE_PG_TRANSFORMER_PASSWORD", postgres_build.passwords["transformer"])
    with temporary_environment(warehouse.transformer_environment()):
        rebuild = run_dbt(
            ["run", "--select", "dim_channel"], postgres_build.paths, target="postgres", quiet=True
        )
    assert rebuild.ok, rebuild.failures
    # the model and the on-run-start hook
    assert rebuild.status_counts["success"] == 2
    connection = postgres_build.connect(warehouse.roles.reporter)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select count(*) from marketing.dim_channel")
            assert cursor.fetchone()[0] > 0
    finally:
        connection.close()


def test_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(WarehouseError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1"):
        setup_roles("postgresql://postgres@127.0.0.1:1/postgres", "larkspur")
