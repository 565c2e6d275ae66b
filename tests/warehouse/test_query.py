"""`warehouse query` is read-only for the warehouse and for every other file: one query, no I/O."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.conftest import CliRun, run_warehouse

SECRET = "canary-secret-4242"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A data folder with a small warehouse, a canary file, and a secrets file in the cwd."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as connection:
        connection.execute(
            """
            create schema finance;
            create table finance.customers as
                select * from (values (1, 'Ada Lovelace', 'ada@example.com'),
                                      (2, 'Alan Turing', 'alan@example.com'))
                    as customers(customer_id, full_name, email);
            """
        )
    (tmp_path / "canary.txt").write_text("canary\n")
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text(f'token = "{SECRET}"\n')
    return tmp_path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below the folder and a hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def query(workspace: Path, *args: str) -> CliRun:
    return run_warehouse("query", *args, "--data-dir", str(workspace / "data"), cwd=workspace)


# The statements of issue #12, and the other ways out of a read-only connection.
REFUSED = {
    "copy onto the warehouse": "copy (select 'x') to '{data}/warehouse.duckdb' (format csv)",
    "copy onto a file": "copy (select 'x') to '{workspace}/canary.txt' (format csv)",
    "copy into a new file": "copy finance.customers to '{workspace}/customers.csv'",
    "read /etc/shadow": "select * from read_text('/etc/shadow')",
    "read the dlt secrets": "select * from read_text('.dlt/secrets.toml')",
    "read a csv file": "select * from read_csv('{workspace}/.dlt/secrets.toml')",
    "list /root": "select * from glob('/root/*')",
    "export the database": "export database '{workspace}/export'",
    "two statements": "select 1; select 2",
    "a query then a copy": "select 1; copy (select 'x') to '{workspace}/canary.txt'",
    "install an extension": "install httpfs",
    "load an extension": "load httpfs",
    "attach a new file": "attach '{workspace}/other.duckdb' as other",
    "attach the warehouse for writing": "attach '{data}/warehouse.duckdb' as writable",
    "switch file access back on": "set enable_external_access = true",
    "unlock the configuration": "set lock_configuration = false",
    "pragma writing a profile": "pragma profiling_output = '{workspace}/profile.json'",
    "import a database": "import database '{workspace}'",
    "call": "call pragma_version()",
    "checkpoint": "checkpoint",
    "force checkpoint": "force checkpoint",
    "create": "create table finance.stolen as select * from finance.customers",
    "update": "update finance.customers set email = null",
}


@pytest.mark.parametrize("sql", REFUSED.values(), ids=REFUSED.keys())
def test_a_statement_that_is_not_one_query_of_the_warehouse_is_refused(
    workspace: Path, sql: str
) -> None:
    before = snapshot(workspace)
    result = query(workspace, sql.format(workspace=workspace, data=workspace / "data"))
    result.assert_one_error()
    assert snapshot(workspace) == before
    assert SECRET not in result.stdout + result.stderr
    assert "root" not in result.stdout


def test_several_statements_are_refused_before_any_runs(workspace: Path) -> None:
    result = query(workspace, "select 1; select 2")
    result.assert_one_error("one statement", "2")
    assert result.stdout == ""


def test_a_statement_that_changes_something_is_named(workspace: Path) -> None:
    result = query(workspace, "copy (select 'x') to 'x.csv'")
    result.assert_one_error("COPY")


def test_reading_a_file_is_refused_with_duckdbs_reason(workspace: Path) -> None:
    result = query(workspace, "select * from read_text('.dlt/secrets.toml')")
    result.assert_one_error("file system operations are disabled")


def test_a_sql_file_goes_through_the_same_checks(workspace: Path) -> None:
    sql_file = workspace / "steal.sql"
    sql_file.write_text(
        f"-- looks like a report\ncopy (select 'x') to '{workspace / 'data' / 'warehouse.duckdb'}'"
    )
    before = snapshot(workspace)
    result = query(workspace, "--file", str(sql_file))
    result.assert_one_error("COPY")
    assert snapshot(workspace) == before


def test_sql_without_a_statement_is_one_clear_line(workspace: Path) -> None:
    sql_file = workspace / "empty.sql"
    sql_file.write_text("-- nothing but a comment\n")
    result = query(workspace, "--file", str(sql_file))
    result.assert_one_error("no SQL statement")


ALLOWED = {
    "select": ("select full_name from finance.customers order by customer_id", "Ada Lovelace"),
    "with": (
        "with named as (select full_name from finance.customers) select count(*) from named",
        "│ 2",
    ),
    "from first": ("from finance.customers where customer_id = 2", "Alan Turing"),
    "describe": ("describe finance.customers", "full_name"),
    "show tables": ("show all tables", "customers"),
    "summarize": ("summarize finance.customers", "email"),
    "explain": ("explain select * from finance.customers", "physical_plan"),
    "a trailing semicolon": ("select 40 + 2 as answer;", "42"),
}


@pytest.mark.parametrize(("sql", "shown"), ALLOWED.values(), ids=ALLOWED.keys())
def test_queries_of_the_warehouse_still_run(workspace: Path, sql: str, shown: str) -> None:
    before = snapshot(workspace)
    result = query(workspace, sql)
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout
    assert snapshot(workspace) == before


def test_limit_caps_the_rows_shown(workspace: Path) -> None:
    result = query(workspace, "select * from range(10) as numbers(n)", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert [line.split("│")[1].strip() for line in result.stdout.splitlines()[3:-1]] == [
        "0",
        "1",
        "2",
    ]


@pytest.mark.parametrize("limit", ["-1", "0"])
def test_a_limit_below_one_is_one_clear_line(workspace: Path, limit: str) -> None:
    result = query(workspace, "select 1", "--limit", limit)
    result.assert_one_error("--limit")
