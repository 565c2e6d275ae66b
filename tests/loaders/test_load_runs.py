"""Every load that lands is logged in `raw_meta.load_runs`, also when its run was killed.

A run killed (SIGKILL) after web loaded and while logistics loads writes no log row; the next
run finishes logistics' package and must log both: their load ids, rows and files.
"""

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from loaders.logistics import settings as logistics_settings
from loaders.web import settings as web_settings
from tests.loaders.conftest import Warehouse, copy_sources

SOURCES = ("web", "logistics")

KILLED_DURING_LOGISTICS = """
import os, signal, sys
from pathlib import Path

import dlt.destinations.impl.duckdb.duck as duck
import loaders.runner as runner
from loaders import load

load_source = runner._load_source
copy_job_run = duck.DuckDbCopyJob.run
copies = 0


def copy_then_die(*args, **kwargs):
    # some of logistics' tables are loaded, others not yet
    global copies
    copies += 1
    if copies == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return copy_job_run(*args, **kwargs)


def killed_in_logistics(name, *args, **kwargs):
    if name == "logistics":
        duck.DuckDbCopyJob.run = copy_then_die
    return load_source(name, *args, **kwargs)


runner._load_source = killed_in_logistics
load(["web", "logistics"], data_dir=Path(sys.argv[1]))
"""


def files_delivered(sources_dir: Path) -> int:
    """The web and logistics files a complete load reads."""
    count = len(list((sources_dir / "web").glob(web_settings.FILE_GLOB)))
    for file_table in (
        logistics_settings.SHIPMENTS,
        logistics_settings.TRACKING,
        logistics_settings.INVENTORY,
    ):
        count += len(
            list((sources_dir / "logistics" / file_table.folder).glob(file_table.file_glob))
        )
    return count


def test_loads_of_a_killed_run_are_logged_by_the_run_that_resumes_it(
    simulated_dir: Path, tmp_path: Path
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_DURING_LOGISTICS, str(data_dir)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    warehouse = Warehouse(data_dir)
    assert warehouse.count("raw_web.events") > 0
    assert not warehouse.scalar(
        "select count(*) from information_schema.tables where table_schema = 'raw_meta'"
    )

    report = warehouse.load(list(SOURCES))

    assert report.ok, [result.error for result in report.results]
    logged = warehouse.query(
        "select source, load_ids, rows_per_table, files_read from raw_meta.load_runs"
    )
    for source in SOURCES:
        loaded_ids = {
            load_id
            for (load_id,) in warehouse.query(
                f"select load_id from raw_{source}._dlt_loads where status = 0"
            )
        }
        logged_ids = [
            load_id
            for name, load_ids, _, _ in logged
            if name == source
            for load_id in json.loads(load_ids)
        ]
        assert sorted(logged_ids) == sorted(loaded_ids), source
        logged_rows: Counter[str] = Counter()
        for name, _, rows_per_table, _ in logged:
            if name == source:
                logged_rows.update(json.loads(rows_per_table))
        tables = [
            table
            for (table,) in warehouse.query(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_name not like '\\_dlt%' escape '\\'",
                [f"raw_{source}"],
            )
        ]
        assert dict(logged_rows) == {
            table: count for table in tables if (count := warehouse.count(f"raw_{source}.{table}"))
        }, source
    assert sum(files for _, _, _, files in logged) == files_delivered(data_dir / "sources")
