"""An API that fails 15 % of requests (429, 503, 500, slow, dropped) loads the same data."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from loaders import load
from simulator.api_server import FaultConfig
from tests.loaders.conftest import (
    API_SOURCES,
    Warehouse,
    api_environment,
    copy_sources,
    start_server,
)

TABLES_AND_KEYS = {
    "raw_payments.charges": "id",
    "raw_payments.refunds": "id",
    "raw_payments.payouts": "id",
    "raw_payments.quarantined_records": "quarantine_id",
    "raw_ads.campaigns": "campaign_id",
    "raw_ads.ad_groups": "ad_group_id",
    "raw_ads.daily_reports": "report_date, campaign_id",
    "raw_fx.rates": "rate_date, currency",
}


# seed 106 puts every fault kind into the ~30 requests of this load; a slow answer takes
# longer than the request timeout, so it is retried as a timeout
FAULTS = FaultConfig(rate=0.15, seed=106, retry_after_seconds=1, slow_seconds=1.5)
REQUEST_TIMEOUT = "0.75"


@pytest.fixture(scope="module")
def faulty_load(
    simulated_dir: Path, api_server: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Warehouse, list[str]]]:
    """The API sources loaded through a faulty server, and the faults it injected."""
    server = start_server(simulated_dir, FAULTS)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in api_environment(server.base_url).items():
                patch.setenv(key, value)
            patch.setenv("RUNTIME__REQUEST_TIMEOUT", REQUEST_TIMEOUT)
            data_dir = copy_sources(simulated_dir, tmp_path_factory.mktemp("faulty"))
            warehouse = Warehouse(data_dir, load(list(API_SOURCES), data_dir=data_dir))
    finally:
        server.stop()
    # the server numbers requests; the fault of each number is fixed by the config
    requests = server._requests
    injected = [f for n in range(1, requests + 1) if (f := FAULTS.fault_for(n)) is not None]
    yield warehouse, injected


def contents(warehouse: Warehouse, table: str, keys: str) -> list[tuple]:
    columns = [
        name
        for (name,) in warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema || '.' || table_name = ? and column_name not like '\\_dlt%' "
            "escape '\\' and column_name <> 'source_location' order by column_name",
            [table],
        )
    ]
    return warehouse.query(f"select {', '.join(columns)} from {table} order by {keys}")


def test_the_faulty_load_succeeds(faulty_load: tuple[Warehouse, list[str]]) -> None:
    warehouse, injected = faulty_load
    assert [(r.name, r.error) for r in warehouse.report.results if not r.ok] == []
    assert set(injected) == {"429", "503", "500", "slow", "drop"}


@pytest.mark.parametrize("table", sorted(TABLES_AND_KEYS))
def test_faults_do_not_change_the_data(
    faulty_load: tuple[Warehouse, list[str]], warehouse: Warehouse, table: str
) -> None:
    faulty = contents(faulty_load[0], table, TABLES_AND_KEYS[table])
    assert faulty
    assert faulty == contents(warehouse, table, TABLES_AND_KEYS[table])
