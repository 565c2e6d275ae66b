"""A shop read in which every customer is missing, accepted by mistake, heals with the source.

The shop is loaded and built, then loaded and built from a copy whose `customers` table is
empty (the shrink guard is overridden, as an operator might by mistake), then loaded and built
again with the customers back, then rebuilt with `--full-refresh`. Only the models
`dim_customer` needs are built, with their tests.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from loaders import load
from simulator import simulate
from warehouse.dbt import DbtResult, run_dbt
from warehouse.settings import Paths, resolve_paths

DAYS = 6
SCALE = 0.01
BUILD = ["build", "--select", "+dim_customer", "--indirect-selection", "cautious"]


@dataclass
class CustomerCounts:
    """dim_customer's rows after one build."""

    versions: int
    distinct_keys: int
    current_customers: int
    erased_customers: int


@dataclass
class ErasureRun:
    """The builds of the scenario and what each left in dim_customer."""

    paths: Paths
    source_customers: int
    first_build: DbtResult
    empty_build: DbtResult
    empty_counts: CustomerCounts
    erased_valid_to: list[datetime]
    empty_load_at: datetime
    healed_build: DbtResult
    healed_counts: CustomerCounts
    full_refresh: DbtResult
    full_refresh_counts: CustomerCounts


def customer_counts(paths: Paths) -> CustomerCounts:
    with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
        row = connection.execute(
            "select count(*), count(distinct customer_sk),"
            " count(*) filter (where is_current and customer_id is not null),"
            " count(*) filter (where is_erased)"
            " from core.dim_customer"
        ).fetchone()
    return CustomerCounts(*row)


def load_shop(paths: Paths) -> str:
    """Load the shop, accepting any shrink; the id of the load."""
    report = load(
        ["shop"], data_dir=paths.data_dir, duckdb_path=paths.duckdb_path, allow_shrink=True
    )
    result = report.result("shop")
    assert result.ok, result.error
    return result.load_ids[-1]


def build(paths: Paths, *extra: str) -> DbtResult:
    return run_dbt([*BUILD, *extra], paths, target="dev", quiet=True)


@pytest.fixture(scope="module")
def erasure_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ErasureRun]:
    data_dir = tmp_path_factory.mktemp("customer_erasure")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    simulate(data_dir, DAYS, scale=SCALE)
    shop_database = Path(paths.sources_dir) / "shop.sqlite"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_DUCKDB_PATH", str(paths.duckdb_path))
        load_shop(paths)
        first_build = build(paths)

        shop = sqlite3.connect(shop_database)
        (source_customers,) = shop.execute("select count(*) from customers").fetchone()
        shop.executescript(
            "create table customers_away as select * from customers; delete from customers;"
        )
        shop.commit()
        empty_load_id = load_shop(paths)
        empty_build = build(paths)
        empty_counts = customer_counts(paths)
        with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
            erased_valid_to = [
                valid_to
                for (valid_to,) in connection.execute(
                    "select distinct valid_to from core.dim_customer where is_erased"
                ).fetchall()
            ]
            (empty_load_at,) = connection.execute(
                "select cast(timezone('UTC', inserted_at) as timestamp)"
                " from raw_shop._dlt_loads where load_id = ?",
                [empty_load_id],
            ).fetchone()

        shop.executescript(
            "insert into customers select * from customers_away; drop table customers_away;"
        )
        shop.commit()
        shop.close()
        load_shop(paths)
        healed_build = build(paths)
        healed_counts = customer_counts(paths)
        full_refresh = build(paths, "--full-refresh")
        full_refresh_counts = customer_counts(paths)
    yield ErasureRun(
        paths=paths,
        source_customers=source_customers,
        first_build=first_build,
        empty_build=empty_build,
        empty_counts=empty_counts,
        erased_valid_to=erased_valid_to,
        empty_load_at=empty_load_at,
        healed_build=healed_build,
        healed_counts=healed_counts,
        full_refresh=full_refresh,
        full_refresh_counts=full_refresh_counts,
    )


def test_an_empty_read_marks_every_customer_erased(erasure_run: ErasureRun) -> None:
    assert erasure_run.first_build.ok, erasure_run.first_build.failures
    assert erasure_run.empty_build.ok, erasure_run.empty_build.failures
    assert erasure_run.source_customers > 100
    assert erasure_run.empty_counts.current_customers == 0
    assert erasure_run.empty_counts.erased_customers == erasure_run.source_customers


def test_an_erased_version_ends_when_the_load_that_missed_the_customer_landed(
    erasure_run: ErasureRun,
) -> None:
    assert erasure_run.erased_valid_to == [erasure_run.empty_load_at]


def test_the_customers_are_current_again_once_the_source_has_them(
    erasure_run: ErasureRun,
) -> None:
    assert erasure_run.healed_build.ok, erasure_run.healed_build.failures
    counts = erasure_run.healed_counts
    assert counts.distinct_keys == counts.versions
    assert counts.current_customers == erasure_run.source_customers
    assert counts.erased_customers == 0


def test_a_full_refresh_builds_the_same_healed_dimension(erasure_run: ErasureRun) -> None:
    assert erasure_run.full_refresh.ok, erasure_run.full_refresh.failures
    assert erasure_run.full_refresh_counts == erasure_run.healed_counts
