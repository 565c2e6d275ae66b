"""A load killed mid-way (SIGKILL) is completed by the next run, without duplicates."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.loaders.conftest import Warehouse, copy_sources
from tests.loaders.expected import EXPECTED_CLEAN

KILLED_LOAD = """
import sys
from pathlib import Path
from loaders import load
load(["web", "logistics"], data_dir=Path(sys.argv[1]),
     progress=lambda source, message: print(source, message, flush=True))
"""


def test_a_killed_load_is_completed_by_the_next_run(simulated_dir: Path, tmp_path: Path) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    loader = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOAD, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert loader.stdout is not None
    for line in loader.stdout:
        if line.startswith("logistics loading"):
            break
    # somewhere inside the logistics load: listing, reading, normalizing or loading
    time.sleep(0.5)
    loader.send_signal(signal.SIGKILL)
    loader.wait(timeout=30)
    assert loader.returncode == -signal.SIGKILL

    warehouse = Warehouse(data_dir)
    report = warehouse.load(["web", "logistics"])
    assert [(r.name, r.error) for r in report.results if not r.ok] == []
    for table in ("raw_web.events", "raw_logistics.shipments", "raw_logistics.tracking_events"):
        assert warehouse.count(table) == EXPECTED_CLEAN[table](warehouse) > 0
    assert (
        warehouse.scalar(
            "select count(*) - count(distinct (snapshot_date, warehouse_code, sku)) "
            "from raw_logistics.inventory_snapshots"
        )
        == 0
    )
    assert warehouse.count("raw_logistics.inventory_snapshots") == EXPECTED_CLEAN[
        "raw_logistics.inventory_snapshots"
    ](warehouse)
