"""A `--select` build updates what status and the data-quality page say about its nodes only.

One small warehouse (two simulated days) is built in full, then rebuilt with selections through
the `warehouse build` command; `warehouse status` and the data-quality page read the record of
each node's latest result (`warehouse.dbt.read_latest_results`), as the docs site does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from simulator import simulate
from tests.models.conftest import load_sources
from warehouse.dbt import read_latest_results
from warehouse.docs_site import summarise_data_quality
from warehouse.settings import Paths, resolve_paths
from warehouse.status import read_status

DAYS = 2
SCALE = 0.005
SELECTED_MODEL = "stg_fx__rates"


@dataclass
class SmallWarehouse:
    paths: Paths
    full_build: subprocess.CompletedProcess[str]

    def build(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`warehouse build ARGS` on this warehouse, as a user runs it."""
        return subprocess.run(
            [sys.executable, "-m", "warehouse", "build", *args],
            env={
                **os.environ,
                "WAREHOUSE_DATA_DIR": str(self.paths.data_dir),
                "WAREHOUSE_DUCKDB_PATH": str(self.paths.duckdb_path),
                "COLUMNS": "200",
            },
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    def page_results(self) -> dict[str, str]:
        """Each test the data-quality page shows, with its status."""
        manifest = json.loads((self.paths.dbt_target_dir / "manifest.json").read_text())
        report = summarise_data_quality(manifest, read_latest_results(self.paths), None)
        return {test.unique_id: test.status for node in report.nodes for test in node.tests}

    def status(self) -> tuple[dict[str, int], str | None]:
        current = read_status(self.paths)
        return current.last_build, current.last_build_at


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SmallWarehouse:
    data_dir = tmp_path_factory.mktemp("partial_builds")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_DUCKDB_PATH", str(paths.duckdb_path))
        simulate(data_dir, days=DAYS, scale=SCALE)
        load_sources(paths, monkeypatch)
    warehouse = SmallWarehouse(paths, None)  # type: ignore[arg-type]
    warehouse.full_build = warehouse.build()
    return warehouse


def test_a_selected_build_keeps_the_other_nodes_latest_results(
    small_warehouse: SmallWarehouse,
) -> None:
    before = small_warehouse.page_results()
    # the first build ran every data test but the marts' not_null ones, which a daily build
    # leaves to their enforced constraints
    assert len(before) > 300, small_warehouse.full_build.stdout[-2000:]
    counts_before, built_at_before = small_warehouse.status()

    selected = small_warehouse.build("--select", SELECTED_MODEL)

    assert selected.returncode == 0, selected.stdout[-2000:]
    after = small_warehouse.page_results()
    assert after == before
    counts_after, built_at_after = small_warehouse.status()
    assert counts_after == counts_before
    assert built_at_after > built_at_before
    record = read_latest_results(small_warehouse.paths)
    assert record is not None
    assert record["args"]["select"] == [SELECTED_MODEL]
    assert len(record["results"]) == sum(counts_before.values())


def test_a_selection_of_nothing_fails_in_one_line_and_changes_no_status(
    small_warehouse: SmallWarehouse,
) -> None:
    page_before = small_warehouse.page_results()
    status_before = small_warehouse.status()

    nothing = small_warehouse.build("--select", "nonexistent")

    assert nothing.returncode == 1
    assert nothing.stderr.splitlines() == [
        "error: --select 'nonexistent' matches no model, seed, snapshot or test, so nothing was "
        "built: `.venv/bin/dbt ls --select nonexistent` lists what a selection matches"
    ]
    assert "passed" not in nothing.stdout
    assert small_warehouse.status() == status_before
    assert small_warehouse.page_results() == page_before
