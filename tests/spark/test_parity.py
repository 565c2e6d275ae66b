"""Spark builds the same project from the same sources into the same marts and snapshots as
DuckDB, and after one more simulated day, built incrementally on both, it still does.

Each engine gets the `warehouse` commands a user runs (`load --local-api`, `build`) on a data
folder of its own holding the same simulation; Spark's run on the session's server
(`WAREHOUSE_SPARK_REMOTE`), as a cluster's would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from simulator import simulate
from tests.conftest import WRITE_COLUMNS
from tests.operations.conftest import Completed, run_warehouse
from tests.parity import (
    aggregate_query,
    differences,
    figure_kind,
    mart_relations,
    snapshot_relations,
)
from tests.spark.conftest import data_folder

# e2e: both engines simulate, load and build, the suite's longest group (about ten minutes),
# which must start first on its pytest-xdist worker (tests/conftest.py)
pytestmark = [pytest.mark.spark, pytest.mark.e2e]

RELATIONS = [*mart_relations(), *snapshot_relations()]
FIRST_BUILD = "first build"
DAY_LATER = "one day later"
STEPS = (FIRST_BUILD, DAY_LATER)
ENGINES = ("DuckDB", "Spark")
# the whole project on Spark: per-statement latency dominates, not rows
BUILD_TIMEOUT = 900
# Which run wrote a row, not data: Spark rewrites the whole table of a model it does not
# partition by day (web sessions, shipments), so there every row carries the last run's id,
# where DuckDB's delete+insert keeps that of the run that wrote each row.
RUN_COLUMNS = set(WRITE_COLUMNS)


@dataclass(frozen=True)
class EngineState:
    """What one engine's commands printed in a step, and its relations' columns (sorted by name)
    and figures."""

    commands: list[Completed]
    columns: dict[str, list[tuple[str, str]]]
    figures: dict[str, tuple[Any, ...]]


def duckdb_state(duckdb_path: Path, commands: list[Completed]) -> EngineState:
    columns: dict[str, list[tuple[str, str]]] = {}
    figures: dict[str, tuple[Any, ...]] = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        for relation in RELATIONS:
            schema, name = relation.split(".")
            columns[relation] = sorted(
                (column, figure_kind(data_type))
                for column, data_type in connection.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
            )
            if columns[relation]:
                query = aggregate_query(relation, columns[relation])
                figures[relation] = connection.execute(query).fetchone()
    return EngineState(commands, columns, figures)


def spark_state(remote: str, commands: list[Completed]) -> EngineState:
    from warehouse.spark import spark_session

    columns: dict[str, list[tuple[str, str]]] = {}
    figures: dict[str, tuple[Any, ...]] = {}
    # a session of its own per step: one that read a table before the day's build could hold
    # its old file listing
    with spark_session(remote) as session:
        for relation in RELATIONS:
            if not session.catalog.tableExists(relation):
                columns[relation] = []
                continue
            columns[relation] = sorted(
                (column, figure_kind(data_type))
                for column, data_type in session.table(relation).dtypes
            )
            query = aggregate_query(relation, columns[relation], quote="`")
            figures[relation] = tuple(session.sql(query).first())
    return EngineState(commands, columns, figures)


@pytest.fixture(scope="module")
def parity(
    spark_server: Any, simulated_sources: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, EngineState]]:
    """Both engines' states after the first build and after one more day, keyed by step."""
    folder = tmp_path_factory.mktemp("spark-parity")
    on_duckdb = data_folder(simulated_sources, folder / "duckdb")
    on_spark = data_folder(simulated_sources, folder / "spark")
    duckdb_path = on_duckdb / "warehouse.duckdb"
    environment = {
        # the session's server and these folders only, whatever the developer's shell sets
        "WAREHOUSE_SPARK_REMOTE": spark_server.remote,
        "WAREHOUSE_LAKE_URL": str(on_spark / "lake"),
        "WAREHOUSE_DESTINATION": "",
    }

    def run(data_dir: Path, *args: str, timeout: float) -> Completed:
        return run_warehouse(
            *args,
            "--data-dir",
            str(data_dir),
            timeout=timeout,
            WAREHOUSE_DUCKDB_PATH=str(data_dir / "warehouse.duckdb"),
            **environment,
        )

    states: dict[str, dict[str, EngineState]] = {}
    for step in STEPS:
        if step == DAY_LATER:
            simulate(on_duckdb, 1)
            simulate(on_spark, 1)
        # the first build is the demo's (every row and unit test checked), the next a daily one
        check = ["--full"] if step == FIRST_BUILD else []
        on_duckdb_commands = [
            run(on_duckdb, "load", "--local-api", timeout=300),
            run(on_duckdb, "build", *check, timeout=BUILD_TIMEOUT),
        ]
        on_spark_commands = [
            run(on_spark, "load", "--local-api", "--destination", "spark", timeout=300),
            run(on_spark, "build", *check, "--target", "spark", timeout=BUILD_TIMEOUT),
        ]
        states[step] = {
            "DuckDB": duckdb_state(duckdb_path, on_duckdb_commands),
            "Spark": spark_state(spark_server.remote, on_spark_commands),
        }
    return states


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("engine", ENGINES)
def test_load_and_build_succeed(
    parity: dict[str, dict[str, EngineState]], step: str, engine: str
) -> None:
    load, build = parity[step][engine].commands
    assert load.returncode == 0, load.stdout[-3000:] + load.stderr[-3000:]
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    summary = re.search(r"dbt build: (\d+) passed, \d+ warned, (\d+) failed", build.stdout)
    assert summary, build.stdout[-3000:]
    assert int(summary[2]) == 0
    # every seed, model and snapshot at least, and their data tests
    assert int(summary[1]) > 150


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("step", STEPS)
def test_relation_matches_duckdb(
    parity: dict[str, dict[str, EngineState]], step: str, relation: str
) -> None:
    on_duckdb, on_spark = parity[step]["DuckDB"], parity[step]["Spark"]
    assert on_duckdb.columns[relation], f"{relation} is missing in DuckDB"
    assert on_spark.columns[relation], f"{relation} is missing in Spark"
    # the same columns, each getting the same kind of figure; both sides list them by name,
    # as Spark keeps a table's partition column last
    assert on_spark.columns[relation] == on_duckdb.columns[relation]

    names = [name for name, _ in on_duckdb.columns[relation]]
    found = differences(
        relation,
        names,
        {"Spark": on_spark.figures[relation], "DuckDB": on_duckdb.figures[relation]},
        ignore=RUN_COLUMNS,
    )
    assert not found, f"first difference: {found[0]} ({len(found)} in all)"


@pytest.mark.parametrize(
    "relation", ["finance.fct_order_lines", "marketing.fct_sessions", "logistics.fct_shipments"]
)
def test_the_later_day_reached_the_marts(
    parity: dict[str, dict[str, EngineState]], relation: str
) -> None:
    """The day's build did add that day: the parity after it compares new rows too."""
    row_counts = [parity[step]["Spark"].figures[relation][0] for step in STEPS]
    assert row_counts[1] > row_counts[0] > 0
