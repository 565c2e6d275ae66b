"""Incremental models give exactly what a full refresh gives after more simulated days."""

from __future__ import annotations

import duckdb
import pytest

from tests.models.conftest import INCREMENTAL_MODELS, ModelsWarehouse, scalar


def test_builds_succeed(models_warehouse: ModelsWarehouse) -> None:
    for result in (
        models_warehouse.first_build,
        models_warehouse.incremental_build,
        models_warehouse.full_refresh,
    ):
        assert result.ok, result.failures
    # models, seeds and snapshots succeed; data and unit tests pass (or only warn)
    assert models_warehouse.incremental_build.status_counts["success"] > 60
    assert models_warehouse.incremental_build.status_counts["pass"] > 300


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_run_equals_full_refresh(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection, model: str
) -> None:
    incremental = models_warehouse.incremental_copies[model]
    full = f"ods.{model}"
    full_rows = scalar(warehouse, f"select count(*) from {full}")
    assert full_rows > 0
    assert scalar(warehouse, f"select count(*) from {incremental}") == full_rows
    only_incremental = scalar(
        warehouse,
        f"select count(*) from (select * from {incremental} except all select * from {full})",
    )
    only_full = scalar(
        warehouse,
        f"select count(*) from (select * from {full} except all select * from {incremental})",
    )
    assert (only_incremental, only_full) == (0, 0)


def test_incremental_run_picked_up_the_later_days(
    models_warehouse: ModelsWarehouse, warehouse: duckdb.DuckDBPyConnection
) -> None:
    # The later days' events are in the incremental copy, not just the first build's.
    loads = scalar(
        warehouse, "select count(distinct _dlt_load_id) from incremental_copy.ods_web_events"
    )
    assert loads == 2
    last_event_date = scalar(
        warehouse, "select max(event_date) from incremental_copy.ods_web_events"
    )
    assert str(last_event_date) == "2025-02-19"
