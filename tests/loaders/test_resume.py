"""A load killed (SIGKILL) during extract, normalize or load is completed by the next run.

The child process patches one function of its stage to kill itself half-way through that stage,
so each test hits the stage it names. The next run must converge to exactly the data of the
uninterrupted load (the session's `warehouse`) and report the rows of a package it resumed.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loaders.conftest import Warehouse, copy_sources

KILLED_LOAD = """
import os, signal, sys
from pathlib import Path

import dlt.destinations.impl.duckdb.duck as duck
import dlt.normalize.items_normalizers.arrow as arrow
import loaders.files as files
from loaders import load

calls = 0


def kill_after_commit(original, table):
    def patched(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if self.load_table_name == table:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return patched


def kill_on_call(original, when):
    def patched(*args, **kwargs):
        global calls
        calls += 1
        if calls == when:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return patched


stage = sys.argv[2]
if stage == "extract":
    # after the fifth file: earlier files are read, their rows in an uncommitted package
    files.record_file_read = kill_on_call(files.record_file_read, 5)
elif stage == "normalize":
    arrow.ArrowItemsNormalizer.__call__ = kill_on_call(arrow.ArrowItemsNormalizer.__call__, 3)
elif stage == "load":
    # some tables are loaded, others not yet
    duck.DuckDbCopyJob.run = kill_on_call(duck.DuckDbCopyJob.run, 3)
else:
    # the destination committed the job's rows, dlt has not recorded the job done: the next
    # run loads that file again
    duck.DuckDbCopyJob.run = kill_after_commit(duck.DuckDbCopyJob.run, "shipments")
load(["logistics"], data_dir=Path(sys.argv[1]))
"""

TABLES_AND_KEYS = {
    "raw_logistics.shipments": "shipment_id",
    "raw_logistics.tracking_events": "tracking_event_id",
    "raw_logistics.inventory_snapshots": "snapshot_date, warehouse_code, sku",
    "raw_logistics.quarantined_records": "quarantine_id",
}


def contents(warehouse: Warehouse, table: str) -> list[tuple]:
    """Every row of `table` in key order, without dlt's load bookkeeping columns."""
    columns = [
        name
        for (name,) in warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema || '.' || table_name = ? and column_name not like '\\_dlt%' "
            "escape '\\' order by column_name",
            [table],
        )
    ]
    return warehouse.query(
        # a key a file repeats is one row per file line: every column orders them
        f"select {', '.join(columns)} from {table} "
        f"order by {TABLES_AND_KEYS[table]}, {', '.join(columns)}"
    )


@pytest.mark.parametrize("stage", ["extract", "normalize", "load", "load-committed"])
def test_a_load_killed_during_a_stage_is_completed_by_the_next_run(
    simulated_dir: Path, warehouse: Warehouse, tmp_path: Path, stage: str
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_LOAD, str(data_dir), stage],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    resumed = Warehouse(data_dir)
    report = resumed.load(["logistics"])
    result = report.result("logistics")
    assert result.ok, result.error
    for table in TABLES_AND_KEYS:
        assert contents(resumed, table) == contents(warehouse, table), table
    # after a kill in extract nothing was committed and the next run reads every file again;
    # later the killed run had read them all and the next run logs the files of its package
    assert len(result.files_read) == len(warehouse.report.result("logistics").files_read)
    if stage == "extract":
        return
    (load_id,) = result.load_ids[:1]
    for table in ("shipments", "tracking_events", "inventory_snapshots"):
        landed = resumed.scalar(
            f"select count(*) from raw_logistics.{table} where _dlt_load_id = ?", [load_id]
        )
        assert result.rows[table] == landed == resumed.count(f"raw_logistics.{table}") > 0
    (logged,) = resumed.query(
        "select rows_per_table, load_ids from raw_meta.load_runs where run_id = ?",
        [report.run_id],
    )
    assert json.loads(logged[0]) == result.rows
    assert load_id in json.loads(logged[1])
