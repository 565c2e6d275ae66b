"""A daily run over the web export's awkward deliveries gives what a full refresh gives.

The built test warehouse is copied, and two loads the simulator does not make are written into
its raw web events. A newer load re-sends an event of the first day moved in time and to
another visitor; every event of a logged-in visitor under that other visitor, which leaves the
first visitor with none; the landing event of the session an order's last touch credits under a
visitor never seen, which moves the session's start; and, without their customer, the events by
which a visitor whose session an order credits was linked to the order's customer. A load
resumed after a failure, older by load id than the newest held one but completed after it,
carries an older version of a held event and an event never seen. The web models are then built
incrementally, kept, rebuilt with `--full-refresh` and compared: once with
int_web_recent_event_deliveries, the table from which the models keyed by visitor take the
visitors a load changed, and once without it, as a build that selects those models alone leaves
it, missing the new loads.
"""

from __future__ import annotations

import json
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
    model_relation,
    reads_relation,
    scalar,
)
from warehouse.dbt import DbtResult, run_dbt
from warehouse.settings import Paths, resolve_paths

WEB_MODELS = "ods_web_events+"
RECENT_DELIVERIES = "int_web_recent_event_deliveries"
# the models keyed by visitor, which must drop what they held of a visitor left without events
VISITOR_MODELS = ("ods_web_identities", "ods_web_sessions", "fct_sessions")
LAST_TOUCH = (
    "select session_id from ods.ods_order_attribution"
    " where order_id = ? and attribution_model = 'last_touch'"
)
NEW_EVENT_ID = "00000000-0000-4000-8000-00000000beef"
NEW_VISITOR = "00000000-0000-4000-8000-00000000dead"


@dataclass(frozen=True)
class AwkwardLoads:
    """What the two extra loads carried."""

    moved_event_id: str
    # the visitor whose every event moved to another
    vacated_visitor: str
    # the order whose last-touch session lost its landing event
    retouched_order_id: str
    # the order credited to a session of a visitor whose events no longer name its customer
    unlinked_order_id: str
    unlinked_attribution_model: str
    unlinked_session_id: str
    outranked_event_id: str
    newest_load_id: str


@dataclass
class Redelivery:
    """The copied warehouse, the extra loads, what was held before and the builds over them."""

    paths: Paths
    loads: AwkwardLoads
    vacated_rows_before: dict[str, int]
    retouched_session_before: str
    incremental_run: DbtResult
    # the SQL each model of the incremental run ran
    incremental_code: dict[str, str]
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


def write_awkward_loads(connection: duckdb.DuckDBPyConnection) -> AwkwardLoads:
    """Write the two extra loads into the raw web events."""
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
    # logged in, so that it is linked to a customer, and with the fewest events
    vacated_visitor = scalar(
        connection,
        "select anonymous_id from raw_web.events where anonymous_id != ?"
        " group by anonymous_id having count(customer_id) > 0"
        " order by count(distinct event_id), anonymous_id limit 1",
        [other_visitor],
    )
    # the last touch of an order, a session of more than one event of another visitor
    retouched_order_id, landing_event_id = connection.execute(
        "select attribution.order_id, events.event_id"
        " from ods.ods_order_attribution as attribution"
        " inner join ods.ods_web_sessions as sessions using (session_id)"
        " inner join ods.ods_web_events as events"
        " on events.anonymous_id = sessions.anonymous_id"
        " and events.occurred_at = sessions.started_at"
        " where attribution.attribution_model = 'last_touch' and sessions.event_count > 1"
        " and sessions.anonymous_id not in (?, ?)"
        " order by attribution.order_id, events.event_id limit 1",
        [other_visitor, vacated_visitor],
    ).fetchone()
    # an order credited to a session of a visitor that reaches it only through the customer
    # its events name (not through the order's own order_completed event)
    unlinked_order_id, unlinked_attribution_model, unlinked_session_id, unlinked_visitor = (
        connection.execute(
            "select attribution.order_id, attribution.attribution_model, attribution.session_id,"
            " sessions.anonymous_id"
            " from ods.ods_order_attribution as attribution"
            " inner join ods.ods_web_sessions as sessions using (session_id)"
            " inner join ods.ods_orders as orders using (order_id)"
            " where attribution.order_id != ? and sessions.anonymous_id not in"
            " (select anonymous_id from raw_web.events where event_id in (?, ?)"
            " union all select ? union all select ?)"
            " and not exists (select 1 from ods.ods_web_sessions as own_sessions"
            " where own_sessions.anonymous_id = sessions.anonymous_id"
            " and own_sessions.order_number = orders.order_number)"
            " order by attribution.order_id, attribution.attribution_model limit 1",
            [retouched_order_id, moved_event_id, landing_event_id, other_visitor, vacated_visitor],
        ).fetchone()
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
    connection.execute(
        "insert into raw_web.events select * replace (? as anonymous_id, ? as _dlt_load_id)"
        " from raw_web.events where anonymous_id = ?"
        " qualify _dlt_load_id = max(_dlt_load_id) over (partition by event_id)",
        [other_visitor, resending_load_id, vacated_visitor],
    )
    connection.execute(
        "insert into raw_web.events select * replace (? as anonymous_id, null as customer_id,"
        " ? as _dlt_load_id) from raw_web.events where event_id = ?"
        " qualify _dlt_load_id = max(_dlt_load_id) over ()",
        [NEW_VISITOR, resending_load_id, landing_event_id],
    )
    connection.execute(
        "insert into raw_web.events select * replace (null as customer_id, ? as _dlt_load_id)"
        " from raw_web.events where anonymous_id = ?"
        " and customer_id = (select customer_id from ods.ods_orders where order_id = ?)"
        " qualify _dlt_load_id = max(_dlt_load_id) over (partition by event_id)",
        [resending_load_id, unlinked_visitor, unlinked_order_id],
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
    return AwkwardLoads(
        moved_event_id=moved_event_id,
        vacated_visitor=vacated_visitor,
        retouched_order_id=retouched_order_id,
        unlinked_order_id=unlinked_order_id,
        unlinked_attribution_model=unlinked_attribution_model,
        unlinked_session_id=unlinked_session_id,
        outranked_event_id=outranked_event_id,
        newest_load_id=resending_load_id,
    )


@pytest.fixture(
    scope="module",
    params=[f"{WEB_MODELS} {RECENT_DELIVERIES}", WEB_MODELS],
    ids=["with-recent-deliveries", "recent-deliveries-missed-the-loads"],
)
def redelivery(
    models_warehouse: ModelsWarehouse,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Redelivery]:
    data_dir = tmp_path_factory.mktemp("redelivery")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    shutil.copy(models_warehouse.paths.duckdb_path, paths.duckdb_path)
    with duckdb.connect(str(paths.duckdb_path)) as connection:
        loads = write_awkward_loads(connection)
        vacated_rows_before = {
            model: scalar(
                connection,
                f"select count(*) from {model_relation(connection, model)} where anonymous_id = ?",
                [loads.vacated_visitor],
            )
            for model in VISITOR_MODELS
        }
        retouched_session_before = scalar(connection, LAST_TOUCH, [loads.retouched_order_id])
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_DUCKDB_PATH", str(paths.duckdb_path))
        incremental_run = run_dbt(
            ["run", "--select", request.param], paths, target="dev", quiet=True
        )
        run_results = json.loads((paths.dbt_target_dir / "run_results.json").read_text())
        copies = copy_tables(paths, INCREMENTAL_MODELS)
        full_refresh = run_dbt(
            ["run", "--full-refresh", "--select", WEB_MODELS], paths, target="dev", quiet=True
        )
    yield Redelivery(
        paths=paths,
        loads=loads,
        vacated_rows_before=vacated_rows_before,
        retouched_session_before=retouched_session_before,
        incremental_run=incremental_run,
        incremental_code={
            node["unique_id"].removeprefix("model.larkspur."): node["compiled_code"] or ""
            for node in run_results["results"]
        },
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


@pytest.mark.parametrize("model", [*VISITOR_MODELS, "ods_order_attribution"])
def test_the_visitor_models_look_up_the_deliveries_in_staging_only_when_the_table_missed_them(
    redelivery: Redelivery, model: str
) -> None:
    code = redelivery.incremental_code[model]
    built = RECENT_DELIVERIES in redelivery.incremental_code
    looked_up = (reads_relation(code, RECENT_DELIVERIES), reads_relation(code, "stg_web__events"))
    assert looked_up == (built, not built)


def test_the_moved_event_takes_its_new_time_and_visitor(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection
) -> None:
    columns = "occurred_at, anonymous_id, _dlt_load_id"
    before, after = (
        redelivered.execute(
            f"select {columns} from {relation} where event_id = ? order by _dlt_load_id",
            [redelivery.loads.moved_event_id],
        ).fetchall()
        for relation in ("staging.stg_web__events", "ods.ods_web_events")
    )
    assert len(before) == 2
    assert after == [before[1]]
    assert before[1][0] - before[0][0] == timedelta(days=3)
    assert before[1][1] != before[0][1]
    assert after[0][2] == redelivery.loads.newest_load_id


@pytest.mark.parametrize("model", VISITOR_MODELS)
def test_a_visitor_whose_every_event_moved_is_gone(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection, model: str
) -> None:
    assert redelivery.vacated_rows_before[model] > 0
    rows_of_visitor = f"select count(*) from {redelivery.incremental_copies[model]}"
    rows_of_visitor += " where anonymous_id = ?"
    assert scalar(redelivered, rows_of_visitor, [redelivery.loads.vacated_visitor]) == 0


def test_an_order_whose_last_touch_moved_is_credited_anew(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection
) -> None:
    # the session lost its first event, so it starts later: another session id
    rebuilt = scalar(redelivered, LAST_TOUCH, [redelivery.loads.retouched_order_id])
    assert rebuilt != redelivery.retouched_session_before
    kept = LAST_TOUCH.replace(
        "ods.ods_order_attribution", redelivery.incremental_copies["ods_order_attribution"]
    )
    assert scalar(redelivered, kept, [redelivery.loads.retouched_order_id]) == rebuilt


def test_an_order_whose_visitor_no_longer_names_its_customer_is_credited_anew(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection
) -> None:
    # the visitor's sessions are no longer the order's candidates: another one or none
    loads = redelivery.loads
    credited = (
        "select session_id from ods.ods_order_attribution"
        " where order_id = ? and attribution_model = ?"
    )
    arguments = [loads.unlinked_order_id, loads.unlinked_attribution_model]
    rebuilt = scalar(redelivered, credited, arguments)
    assert rebuilt != loads.unlinked_session_id
    kept = credited.replace(
        "ods.ods_order_attribution", redelivery.incremental_copies["ods_order_attribution"]
    )
    assert scalar(redelivered, kept, arguments) == rebuilt


def test_the_resumed_load_lands_its_new_event_and_loses_to_the_newer_version(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection
) -> None:
    incremental = redelivery.incremental_copies["ods_web_events"]
    landed = f"select count(*) from {incremental} where event_id = ?"
    assert scalar(redelivered, landed, [NEW_EVENT_ID]) == 1
    # the resumed load's version, older by load id, is in staging but not chosen
    versions = redelivered.execute(
        "select page_url from staging.stg_web__events where event_id = ? order by _dlt_load_id",
        [redelivery.loads.outranked_event_id],
    ).fetchall()
    assert versions[-2:] == [("/outranked",), versions[-1]]
    assert versions[-1] != ("/outranked",)
    held_page = f"select page_url from {incremental} where event_id = ?"
    assert scalar(redelivered, held_page, [redelivery.loads.outranked_event_id]) == versions[-1][0]


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_the_incremental_run_equals_the_full_refresh(
    redelivery: Redelivery, redelivered: duckdb.DuckDBPyConnection, model: str
) -> None:
    only_incremental, only_full, full_rows = differences_from_rebuild(
        redelivered, model, redelivery.incremental_copies[model]
    )
    assert full_rows > 0
    assert (only_incremental, only_full) == (0, 0)
