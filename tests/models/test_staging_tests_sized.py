"""A daily build tests the staging rows of the loads it processes; the full check tests all.

A small warehouse is built, then a carrier code no one documents is written into a tracking
event the warehouse already processed and into one of the next day's load. The accepted-values
test of `stg_logistics__tracking_events` warns about the new one only on the daily build, and
about both in the full check (`warehouse build --full`).
"""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.models.conftest import simulate_and_load
from warehouse.dbt import DbtResult, build_arguments, run_dbt
from warehouse.settings import Paths, resolve_paths

MODELS = "+ods_tracking_events"
CODE_TEST = "test.larkspur.accepted_values_stg_logistics__tracking_events_event_code"


def plant_unknown_code(paths: Paths, newest_load: bool, code: str) -> None:
    """Give one raw tracking event of the oldest or newest load an undocumented event code."""
    order = "desc" if newest_load else "asc"
    with duckdb.connect(str(paths.duckdb_path)) as connection:
        (event_id,) = connection.execute(
            "select tracking_event_id from raw_logistics.tracking_events"
            f" order by _dlt_load_id {order}, tracking_event_id limit 1"
        ).fetchone()
        connection.execute(
            "update raw_logistics.tracking_events set event_code = ? where tracking_event_id = ?",
            [code, event_id],
        )


def build(paths: Paths, *, full_check: bool = False) -> DbtResult:
    """`warehouse build`'s daily build or full check of the tracking events' lineage, with the
    tests of what is built only (a relationship to an unbuilt model would fail)."""
    arguments = [*build_arguments(select=MODELS, full_check=full_check), "--indirect-selection"]
    result = run_dbt([*arguments, "cautious"], paths, target="dev", quiet=True)
    assert result.ok, result.failures
    return result


def codes_the_code_test_found(paths: Paths) -> set[str]:
    """The undocumented codes the last build's accepted-values test stored as failures."""
    run_results = json.loads((paths.dbt_target_dir / "run_results.json").read_text())
    (result,) = [node for node in run_results["results"] if node["unique_id"].startswith(CODE_TEST)]
    assert result["status"] in {"pass", "warn"}, result
    with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
        rows = connection.execute(f"select value_field from {result['relation_name']}").fetchall()
    return {value for (value,) in rows}


@pytest.fixture(scope="module")
def defect_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """Two days built, a processed event given an unknown code, a third day loaded with one."""
    data_dir = tmp_path_factory.mktemp("staging_tests")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_DUCKDB_PATH", str(paths.duckdb_path))
        simulate_and_load(paths, 2, monkeypatch)
        build(paths)
        plant_unknown_code(paths, newest_load=False, code="TELEPORTED")
        simulate_and_load(paths, 1, monkeypatch)
        plant_unknown_code(paths, newest_load=True, code="BEAMED")
    return paths


def test_daily_build_tests_the_staging_rows_of_its_loads_and_full_check_all(
    defect_warehouse: Paths,
) -> None:
    paths = defect_warehouse
    build(paths)
    found_daily = codes_the_code_test_found(paths)
    assert "BEAMED" in found_daily
    assert "TELEPORTED" not in found_daily
    build(paths, full_check=True)
    assert {"BEAMED", "TELEPORTED"} <= codes_the_code_test_found(paths)
