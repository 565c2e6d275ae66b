"""A merged table's first load appends (no copy through dlt's `_staging` dataset); later loads
merge on the key. Covers the API sources' tables and every source's `quarantined_records`."""

from pathlib import Path

from simulator.api_server import ApiServer
from tests.loaders.conftest import Warehouse, copy_sources


def staging_tables(warehouse: Warehouse) -> list[str]:
    """`<schema>.<table>` of every table in dlt's `raw_*_staging` datasets (merge input)."""
    return [
        name
        for (name,) in warehouse.query(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema like 'raw\\_%\\_staging' escape '\\' order by 1"
        )
    ]


def test_a_first_load_of_every_source_merges_nothing(warehouse: Warehouse) -> None:
    assert warehouse.report.ok
    assert staging_tables(warehouse) == []


def test_a_first_api_load_appends_then_the_next_load_merges_on_the_key(
    simulated_dir: Path, api_server: ApiServer, tmp_path: Path
) -> None:
    warehouse = Warehouse(copy_sources(simulated_dir, tmp_path))
    first = warehouse.load(["payments"]).result("payments")
    assert first.ok, first.error
    assert staging_tables(warehouse) == []
    charges = warehouse.count("raw_payments.charges")
    assert charges > 0

    # the lookback re-reads the last day's charges: they merge on id, nothing doubles
    second = warehouse.load(["payments"]).result("payments")
    assert second.ok, second.error
    assert second.rows["charges"] > 0
    assert "raw_payments_staging.charges" in staging_tables(warehouse)
    assert warehouse.query("select count(*), count(distinct id) from raw_payments.charges") == [
        (charges, charges)
    ]
