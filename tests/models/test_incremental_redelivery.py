"""A daily run over the web export's awkward deliveries gives what a full refresh gives.

The built test warehouse is copied, and two loads the simulator does not make are written
into its raw web events: a newer load re-sending an event of the first day moved in time and to
another visitor, and a load resumed after a failure, older by load id than the newest held one
but completed after it, carrying an older version of a held event and an event never seen. The
web models are then built incrementally, kept, rebuilt with `--full-refresh` and compared.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import duckdb
import pytest

from tests.models.conftest import (
    INCREMENTAL_MODELS,
    ModelsWarehouse,
    copy_tables,
    differences_from_rebuild,
    scalar,
)
from warehouse.dbt import DbtResult, run_dbt
from warehouse.settings import Paths, resolve_paths

WEB_MODELS = "ods_web_events+"
NEW_EVENT_ID = "00000000-0000-4000-8000-00000000beef"


@dataclass
class Redelivery:
    """The copied warehouse, the events the extra loads carried and the builds over them."""

    paths: Paths
    moved_event_id: str
    outranked_event_id: str
    newest_load_id: str
    incremental_run: DbtResult
    full_refresh: DbtResult
    incremental_copies: dict[str, str]


def add_load(connection: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """A completed web load, marked done after every load the warehouse holds."""
    connection.execute(
        "insert into raw_web._dlt_loads (load_id, schema_name, status, inserted_at,"
        " schema_version_hash)"
        " select ?, schema_name, 0, max(inserted_at) over () + interval 1 hour,"
        " schema_version_hash from raw_web._dlt_loads order by load_id desc limit 1",
        [load_id],
    )


def write_awkward_loads(connection: duckdb.DuckDBPyConnection) -> tuple[str, str, str]:
    """The two extra loads; the moved event's id, the outranked event's and the newest load."""
    newest_load_id, previous_load_id = (
        load_id
        for (load_id,) in connection.execute(
            "select distinct _dlt_load_id from raw_web.events order by 1 desc limit 2"
        ).fetchall()
    )
    moved_event_id = scalar(
        connection,
        # sent once, in the first load
        "select event_id from raw_web.events where anonymous_id is not null group by event_id"
        " having count(*) = 1 and min(_dlt_load_id) = (select min(_dlt_load_id)"
        " from raw_web.events) order by event_id limit 1",
    )
    outranked_event_id = scalar(
        connection,
        "select event_id from raw_web.events where _dlt_load_id = ? order by event_id limit 1",
        [newest_load_id],
    )
    other_visitor = scalar(
        connection,
        "select max(anonymous_id) from raw_web.events where anonymous_id is not null",
    )
    # a load id is the time the load started: the re-sending one is the newest, the resumed
    # one started before the newest held load and ends after it
    resending_load_id = str(Decimal(newest_load_id) + 60)
    resumed_load_id = str(Decimal(previous_load_id) + Decimal("0.5"))
    assert previous_load_id < resumed_load_id < newest_load_id < resending_load_id
    connection.execute(
        "insert into raw_web.events select * replace (occurred_at + interval 3 day as"
        " occurred_at, ? as anonymous_id, ? as _dlt_load_id) from raw_web.events"
        " where event_id = ?",
        [other_visitor, resending_load_id, moved_event_id],
    )
    add_load(connection, resending_load_id)
    connection.execute(
        "insert into raw_web.events select * replace ('/outranked' as page_url,"
        " ? as _dlt_load_id) from raw_web.events where event_id = ? and _dlt_load_id = ?",
        [resumed_load_id, outranked_event_id, newest_load_id],
    )
    connection.execute(
        "insert into raw_web.events select * replace (? as event_id, ? as _dlt_load_id)"
        " from raw_web.events where event_id = ? and _dlt_load_id = ?",
        [NEW_EVENT_ID, resumed_load_id, outranked_event_id, newest_load_id],
    )
    add_load(connection, resumed_load_id)
    return moved_event_id, outranked_event_id, resending_load_id


@pytest.fixture(scope="module")
def redelivery(
    models_warehouse: ModelsWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Redelivery]:
    data_dir = tmp_path_factory.mktemp("redelivery")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    shutil.copy(models_warehouse.paths.duckdb_path, paths.duckdb_path)
    with duckdb.connect(str(paths.duckdb_path)) as connection:
        moved, outranked, newest = write_awkward_loads(connection)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_DUCKDB_PATH", str(paths.duckdb_path))
        incremental_run = run_dbt(["run", "--select", WEB_MODELS], paths, target="dev", quiet=True)
        copies = copy_tables(paths, INCREMENTAL_MODELS)
        full_refresh = run_dbt(
            ["run", "--full-refresh", "--select", WEB_MODELS], paths, target="dev", quiet=True
        )
    yield Redelivery(
        paths=paths,
        moved_event_id=moved,
        outranked_event_id=outranked,
        newest_load_id=newest,
        incremental_run=incremental_run,
        full_refresh=full_refresh,
        incremental_copies=copies,
    )


@pytest.fixture
def redelivered(redelivery: Redelivery) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(redelivery.paths.duckdb_path), read_only=True)
    yield connection
    connection.close()


def test_the_runs_succeed(redelivery: Redelivery) -> None:
    assert redelivery.incremental_run.ok, redelivery.incremental_run.failures
    assert redelivery.full_refresh.ok, redelivery.full_refresh.failures


def test_the_moved_event_takes_its_new_time_and_visitor(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection
) -> None:
    columns = "occurred_at, anonymous_id, _dlt_load_id"
    before, after = (
        redelivered.execute(
            f"select {columns} from {relation} where event_id = ? order by _dlt_load_id",
            [redelivery.moved_event_id],
        ).fetchall()
        for relation in ("staging.stg_web__events", "ods.ods_web_events")
    )
    assert len(before) == 2
    assert after == [before[1]]
    assert before[1][0] - before[0][0] == timedelta(days=3)
    assert before[1][1] != before[0][1]
    assert after[0][2] == redelivery.newest_load_id


def test_the_resumed_load_lands_its_new_event_and_loses_to_the_newer_version(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection
) -> None:
    incremental = redelivery.incremental_copies["ods_web_events"]
    landed = f"select count(*) from {incremental} where event_id = ?"
    assert scalar(redelivered, landed, [NEW_EVENT_ID]) == 1
    # the resumed load's version, older by load id, is in staging but not chosen
    versions = redelivered.execute(
        "select page_url from staging.stg_web__events where event_id = ? order by _dlt_load_id",
        [redelivery.outranked_event_id],
    ).fetchall()
    assert versions[-2:] == [("/outranked",), versions[-1]]
    assert versions[-1] != ("/outranked",)
    held_page = f"select page_url from {incremental} where event_id = ?"
    assert scalar(redelivered, held_page, [redelivery.outranked_event_id]) == versions[-1][0]


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_the_incremental_run_equals_the_full_refresh(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection, model: str
) -> None:
    only_incremental, only_full, full_rows = differences_from_rebuild(
        redelivered, model, redelivery.incremental_copies[model]
    )
    assert full_rows > 0
    assert (only_incremental, only_full) == (0, 0)
