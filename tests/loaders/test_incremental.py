"""Re-runs load nothing new; one more simulated day loads exactly that day's changes."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from loaders import LoadReport, load
from simulator import simulate
from tests.loaders.conftest import SCALE, Warehouse, api_environment, start_server
from tests.loaders.expected import EXPECTED_CLEAN, ad_reports_and_api_state, entities_loaded

FIRST_DAYS = 8


@dataclass
class IncrementalRun:
    """One warehouse loaded three times: full, again unchanged, and after one more day."""

    warehouse: Warehouse
    first: LoadReport
    rerun: LoadReport
    counts_after_first: dict[str, int]
    counts_after_rerun: dict[str, int]
    delta: LoadReport
    new_day: str


def table_counts(warehouse: Warehouse) -> dict[str, int]:
    tables = warehouse.query(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema like 'raw_%' and table_schema not like '%_staging' "
        "and table_schema <> 'raw_meta' and table_name not like '_dlt%'"
    )
    return {name: warehouse.count(name) for (name,) in tables}


@pytest.fixture(scope="module")
def incremental_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IncrementalRun]:
    data_dir = tmp_path_factory.mktemp("incremental")
    simulate(data_dir, FIRST_DAYS, scale=SCALE)
    server = start_server(data_dir)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in api_environment(server.base_url).items():
                patch.setenv(key, value)
            warehouse = Warehouse(data_dir, load(data_dir=data_dir))
            first = warehouse.report
            counts_after_first = table_counts(warehouse)
            rerun = warehouse.load()
            counts_after_rerun = table_counts(warehouse)
            result = simulate(data_dir, 1)
            delta = warehouse.load()
        yield IncrementalRun(
            warehouse,
            first,
            rerun,
            counts_after_first,
            counts_after_rerun,
            delta,
            result.last_day.isoformat(),
        )
    finally:
        server.stop()


def test_every_load_succeeds(incremental_run: IncrementalRun) -> None:
    for report in (incremental_run.first, incremental_run.rerun, incremental_run.delta):
        assert [(r.name, r.error) for r in report.results if not r.ok] == []


def test_rerun_changes_nothing(incremental_run: IncrementalRun) -> None:
    assert incremental_run.counts_after_rerun == incremental_run.counts_after_first
    for name in ("web", "logistics"):
        result = incremental_run.rerun.result(name)
        assert result.files_read == []
        assert result.rows == {}


def test_rerun_reads_only_the_lookback_window(incremental_run: IncrementalRun) -> None:
    first = incremental_run.first.result("shop").rows
    again = incremental_run.rerun.result("shop").rows
    # customers and addresses too, though the shop hard-deletes them (erasures are found by
    # key after the load, not by reading every row again)
    for table in ("customers", "addresses", "orders"):
        assert 0 < again.get(table, 0) < first[table], table
    charges_again = incremental_run.rerun.result("payments").rows.get("charges", 0)
    assert charges_again < incremental_run.first.result("payments").rows["charges"]


def test_one_more_day_reads_only_that_days_files(incremental_run: IncrementalRun) -> None:
    day = incremental_run.new_day
    assert incremental_run.delta.result("web").files_read == [f"web/events_{day}.jsonl.gz"]
    logistics_files = incremental_run.delta.result("logistics").files_read
    for kind in ("shipments", "tracking", "inventory"):
        assert any(path.startswith(f"logistics/{kind}/{kind}_{day}") for path in logistics_files)
    # besides today's drops only a file the 3PL re-delivered today (yesterday's) may be read
    yesterday = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    file_days = {path.rsplit("_", 1)[1][:10] for path in logistics_files}
    assert file_days <= {day, yesterday}


@pytest.mark.parametrize("table", sorted(EXPECTED_CLEAN))
def test_after_the_delta_the_tables_match_the_ground_truth(
    incremental_run: IncrementalRun, table: str
) -> None:
    warehouse = incremental_run.warehouse
    assert entities_loaded(warehouse, table) == EXPECTED_CLEAN[table](warehouse)


def test_after_the_delta_shop_tables_hold_every_current_row(
    incremental_run: IncrementalRun,
) -> None:
    warehouse = incremental_run.warehouse
    truth = warehouse.ground_truth["tables"]
    for table in ("customers", "orders", "order_lines", "order_status_history", "products"):
        assert warehouse.count(f"raw_shop.{table}") == truth[f"shop.{table}"]["rows"]
    assert (
        warehouse.count("raw_shop.orders") > incremental_run.counts_after_first["raw_shop.orders"]
    )


def test_delta_events_are_the_new_files_events(incremental_run: IncrementalRun) -> None:
    warehouse = incremental_run.warehouse
    (load_id,) = incremental_run.delta.result("web").load_ids
    new_rows = warehouse.scalar(
        "select count(*) from raw_web.events where _dlt_load_id = ?", [load_id]
    )
    file_name = f"web/events_{incremental_run.new_day}.jsonl.gz"
    assert new_rows == warehouse.scalar(
        "select count(*) from raw_web.events where _source_file = ?", [file_name]
    )
    # appended: earlier files' rows stay as they were
    added = warehouse.count("raw_web.events") - incremental_run.counts_after_first["raw_web.events"]
    assert added == new_rows > 0


def test_restated_ad_reports_are_picked_up_by_the_next_load(
    incremental_run: IncrementalRun,
) -> None:
    # the new day restated the previous three days: the lookback window re-reads them
    loaded, latest = ad_reports_and_api_state(incremental_run.warehouse)
    assert loaded == latest
    assert incremental_run.delta.result("ads").rows["daily_reports"] > len(
        {campaign for _, campaign in latest}
    )
