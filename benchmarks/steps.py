"""The measured steps, each run in a subprocess of its own by `run_step()`.

A step is a function taking JSON-able keyword arguments and returning a JSON-able dict. Running
every step in a fresh interpreter gives each its own peak RSS (the largest of the step process
and the processes it waited for, such as dbt) and keeps one step's imports and caches from
speeding up or slowing down the next.

Run one by hand with `python -m benchmarks.steps STEP '{"arg": ...}' RESULT.json`.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.errors import BenchmarkError
from loaders.registry import SOURCES, SourceContext, api_source_names


@dataclass(frozen=True)
class FileKind:
    """One kind of file drop: the loader resource that reads it and DuckDB's native reader.

    `only_kind_of_its_source` marks a source that reads this kind of file and nothing else:
    its run within the full load is this kind's loader figure, so it is not loaded again.
    """

    name: str
    source: str
    resource: str
    folder: str
    glob: str
    native_reader: str
    only_kind_of_its_source: bool = False


# Malformed lines and rows are skipped by `ignore_errors` (the loaders quarantine them instead);
# `union_by_name` lets the shipments files with the renamed cost column line up with the others.
# Tracking files are Windows-1252, which DuckDB cannot decode natively: they are read as
# Latin-1, which decodes every byte the simulator writes (its place names use no character in
# the 0x80-0x9F range where the two encodings differ) to the same text.
FILE_KINDS: tuple[FileKind, ...] = (
    FileKind(
        "web events (jsonl.gz)",
        "web",
        "events",
        "web",
        "events_*.jsonl.gz",
        "read_json({files}, format = 'newline_delimited', ignore_errors = true, "
        "union_by_name = true)",
        only_kind_of_its_source=True,
    ),
    FileKind(
        "shipments (CSV)",
        "logistics",
        "shipments",
        "logistics/shipments",
        "shipments_*.csv",
        "read_csv({files}, union_by_name = true, ignore_errors = true)",
    ),
    FileKind(
        "tracking (CSV, cp1252, ';')",
        "logistics",
        "tracking_events",
        "logistics/tracking",
        "tracking_*.csv",
        "read_csv({files}, delim = ';', encoding = 'latin-1', union_by_name = true, "
        "ignore_errors = true)",
    ),
    FileKind(
        "inventory (Parquet)",
        "logistics",
        "inventory_snapshots",
        "logistics/inventory",
        "inventory_*.parquet",
        "read_parquet({files}, union_by_name = true)",
    ),
)

API_SOURCES = api_source_names()
# The API loaders' own settings, so that the bare client asks for exactly the same pages.
API_PAGE_SIZE = 1000
API_INITIAL_DATE = date(2020, 1, 1)
API_WINDOW_DAYS = 366


def simulate_step(data_dir: str, days: int, scale: float, seed: int) -> dict[str, Any]:
    """Simulate `days` (more) days into `data_dir`."""
    from simulator import simulate

    result = simulate(Path(data_dir), days, scale=scale, seed=seed)
    return {"seconds": result.elapsed_seconds, "rows": result.rows}


def load_step(
    data_dir: str, duckdb_path: str | None = None, destination: str = "duckdb"
) -> dict[str, Any]:
    """Load every source with `loaders.load` and report rows and seconds per source."""
    from loaders import load

    report = load(
        data_dir=Path(data_dir),
        destination=destination,
        duckdb_path=Path(duckdb_path) if duckdb_path else None,
    )
    failed = [f"{result.name}: {result.error}" for result in report.results if not result.ok]
    if failed:
        raise BenchmarkError("the load failed: " + "; ".join(failed))
    return {
        "sources": [
            {
                "name": result.name,
                "rows": result.rows,
                "files_read": len(result.files_read),
                "seconds": result.elapsed_seconds,
                "step_seconds": result.step_seconds,
            }
            for result in report.results
        ]
    }


def file_loaders_step(sources_dir: str, work_dir: str) -> dict[str, Any]:
    """Load each file kind that shares its source alone with its dlt resource.

    Each goes into a scratch DuckDB file. A kind that is its source's only one is skipped: the
    full load has measured it already.
    """
    import dlt

    from loaders.runner import configure_dlt, duckdb_destination

    configure_dlt()  # as `loaders.load` does
    results = []
    for kind in FILE_KINDS:
        if kind.only_kind_of_its_source:
            continue
        pipeline = dlt.pipeline(
            pipeline_name=f"bench_{kind.resource}",
            pipelines_dir=str(Path(work_dir) / "pipelines"),
            destination=duckdb_destination(Path(work_dir) / "loader.duckdb"),
            dataset_name=f"bench_{kind.source}",
        )
        source = SOURCES[kind.source].build(SourceContext(Path(sources_dir), pipeline))
        started = time.perf_counter()
        pipeline.run(source.with_resources(kind.resource))
        seconds = time.perf_counter() - started
        row_counts = pipeline.last_trace.last_normalize_info.row_counts
        results.append(
            {
                "kind": kind.name,
                "rows": row_counts.get(kind.resource, 0),
                "quarantined_rows": row_counts.get("quarantined_records", 0),
                "seconds": round(seconds, 3),
            }
        )
    return {"kinds": results}


def native_readers_step(sources_dir: str, duckdb_path: str) -> dict[str, Any]:
    """`create table as select * from read_...()` of every file kind in a scratch DuckDB file.

    DuckDB keeps its default settings here: it is the engine's own limit that the loaders are
    compared against. Under the loaders' memory cap, `read_json` of a year of web events runs
    out of memory (scale factor 1, 3GB, with or without insertion order).
    """
    import duckdb

    results = []
    with duckdb.connect(duckdb_path) as connection:
        for number, kind in enumerate(FILE_KINDS):
            folder = Path(sources_dir) / kind.folder
            files = sorted(str(path) for path in folder.glob(kind.glob))
            reader = kind.native_reader.format(files="?")
            started = time.perf_counter()
            connection.execute(f"create table native_{number} as select * from {reader}", [files])
            seconds = time.perf_counter() - started
            (rows,) = connection.execute(f"select count(*) from native_{number}").fetchone()
            results.append(
                {"kind": kind.name, "files": len(files), "rows": rows, "seconds": round(seconds, 3)}
            )
    return {"kinds": results}


def _window_params(today: date) -> list[dict[str, str]]:
    windows = []
    start = API_INITIAL_DATE
    while start <= today:
        end = min(today, start + timedelta(days=API_WINDOW_DAYS - 1))
        windows.append({"start_date": start.isoformat(), "end_date": end.isoformat()})
        start = end + timedelta(days=1)
    return windows


def http_baseline_step(base_url: str, token: str) -> dict[str, Any]:
    """Fetch every page the API loaders fetch on a first load, with a bare requests loop.

    Records are parsed from JSON and thrown away; nothing is validated or stored.
    """
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    counters = {"records": 0, "requests": 0}

    def get(url: str, params: dict[str, Any]) -> dict[str, Any]:
        response = session.get(url, params=params, timeout=30)
        response.raise_for_status()
        counters["requests"] += 1
        return response.json()

    def paged(url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            body = get(url, {**params, "page": page, "page_size": API_PAGE_SIZE})
            records.extend(body["results"])
            if page >= body["total_pages"]:
                return records
            page += 1

    def payments() -> None:
        for endpoint in ("charges", "refunds", "payouts"):
            params: dict[str, Any] = {"limit": API_PAGE_SIZE, "updated_since": 0}
            while True:
                body = get(f"{base_url}/payments/v1/{endpoint}", params)
                counters["records"] += len(body["data"])
                if not body["has_more"]:
                    break
                params = {**params, "starting_after": body["next_cursor"]}

    def ads() -> None:
        ads_url = f"{base_url}/ads/v1"
        since = f"{API_INITIAL_DATE.isoformat()}T00:00:00Z"
        campaigns = paged(f"{ads_url}/campaigns", {"updated_since": since})
        counters["records"] += len(campaigns)
        for campaign in campaigns:
            url = f"{ads_url}/campaigns/{campaign['campaign_id']}/ad_groups"
            counters["records"] += len(paged(url, {}))
        for window in _window_params(datetime.now(UTC).date()):
            counters["records"] += len(paged(f"{ads_url}/reports/daily", window))

    def fx() -> None:
        for window in _window_params(datetime.now(UTC).date()):
            counters["records"] += len(get(f"{base_url}/fx/v1/rates", window)["rates"])

    results = []
    for name, fetch in (("payments", payments), ("ads", ads), ("fx", fx)):
        counters.update(records=0, requests=0)
        started = time.perf_counter()
        fetch()
        seconds = time.perf_counter() - started
        results.append({"name": name, **counters, "seconds": round(seconds, 3)})
    return {"sources": results}


def postgres_step(data_dir: str, server_url: str, database: str) -> dict[str, Any]:
    """Load every source into a throw-away PostgreSQL database, then COPY the same rows again.

    The COPY baseline exports each raw table the loader wrote to a CSV file (not timed) and
    times `COPY ... FROM STDIN` of it into an empty table of the same columns.
    """
    admin_dsn = f"{server_url}/postgres"
    bench_dsn = f"{server_url}/{database}"
    _admin_command(admin_dsn, f'create database "{database}"')
    try:
        os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = bench_dsn
        if urlsplit(server_url).password is None:
            # dlt insists on a password even where the server trusts local connections
            os.environ.setdefault("DESTINATION__POSTGRES__CREDENTIALS__PASSWORD", "unused")
        loaded = load_step(data_dir, destination="postgres")
        copies = _copy_baseline(bench_dsn, Path(data_dir) / "copy")
    finally:
        _admin_command(admin_dsn, f'drop database if exists "{database}" with (force)')
    return {"sources": loaded["sources"], "copy": copies}


def _admin_command(dsn: str, statement: str) -> None:
    import psycopg2

    # CREATE and DROP DATABASE refuse to run inside a transaction
    connection = psycopg2.connect(dsn)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def _copy_baseline(dsn: str, export_dir: Path) -> list[dict[str, Any]]:
    import psycopg2

    export_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw\\_%' and table_schema <> 'raw_meta' "
            # dlt's `<dataset>_staging` schemas hold merge input, not loaded rows
            "and table_schema not like '%\\_staging' "
            "and table_name not like '\\_dlt%' order by 1, 2"
        )
        tables = cursor.fetchall()
        cursor.execute("create schema bench_copy")
        for schema, table in tables:
            source_table = f'"{schema}"."{table}"'
            target_table = f'bench_copy."{schema}__{table}"'
            export_file = export_dir / f"{schema}__{table}.csv"
            with export_file.open("w", encoding="utf-8") as export:
                cursor.copy_expert(f"copy {source_table} to stdout with (format csv)", export)
            cursor.execute(f"create table {target_table} (like {source_table})")
            connection.commit()
            started = time.perf_counter()
            with export_file.open(encoding="utf-8") as export:
                cursor.copy_expert(f"copy {target_table} from stdin with (format csv)", export)
            copied_rows = cursor.rowcount
            connection.commit()
            seconds = time.perf_counter() - started
            results.append({"table": f"{schema}.{table}", "rows": copied_rows, "seconds": seconds})
            export_file.unlink()
    return results


def dbt_build_step(data_dir: str, duckdb_path: str, full_refresh: bool = False) -> dict[str, Any]:
    """`warehouse build` as a day runs it, or `--full-refresh`, and the timings in its
    run_results.json."""
    from warehouse.dbt import build_arguments, run_dbt
    from warehouse.settings import resolve_paths

    paths = resolve_paths(Path(data_dir), Path(duckdb_path))
    args = build_arguments(full_refresh=full_refresh)
    started = time.perf_counter()
    result = run_dbt(args, paths, target="dev", quiet=True)
    wall_seconds = time.perf_counter() - started
    if not result.ok:
        details = "; ".join(result.failures[:5]) or f"exit code {result.returncode}"
        raise BenchmarkError(f"dbt {' '.join(args)} failed: {details}")
    run_results = json.loads((paths.dbt_target_dir / "run_results.json").read_text())
    # run_results.json names the thread count only when given on the command line; the log
    # always says it
    log = (paths.dbt_log_dir / "dbt.log").read_text(errors="replace")
    threads = [int(found) for found in re.findall(r"Concurrency: (\d+) threads", log)]
    nodes = []
    for node in run_results["results"]:
        phases = {timing["name"]: _phase_seconds(timing) for timing in node.get("timing", [])}
        nodes.append(
            {
                "unique_id": node["unique_id"],
                "status": node["status"],
                "seconds": node["execution_time"],
                "execute_seconds": phases.get("execute", 0.0),
                "compile_seconds": phases.get("compile", 0.0),
            }
        )
    return {
        "wall_seconds": round(wall_seconds, 3),
        "dbt_elapsed_seconds": run_results["elapsed_time"],
        "threads": threads[-1] if threads else 1,
        "status_counts": dict(result.status_counts),
        "nodes": nodes,
    }


def _phase_seconds(timing: dict[str, Any]) -> float:
    if not timing.get("started_at") or not timing.get("completed_at"):
        return 0.0
    started = datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
    completed = datetime.fromisoformat(timing["completed_at"].replace("Z", "+00:00"))
    return (completed - started).total_seconds()


STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "simulate": simulate_step,
    "load": load_step,
    "file_loaders": file_loaders_step,
    "native_readers": native_readers_step,
    "http_baseline": http_baseline_step,
    "postgres": postgres_step,
    "dbt_build": dbt_build_step,
}


@dataclass(frozen=True)
class StepRun:
    """What running one step in a subprocess gave: its result, wall time and peak memory."""

    name: str
    result: dict[str, Any]
    wall_seconds: float
    peak_rss_mb: float


def run_step(
    label: str, step: str, arguments: dict[str, Any], result_file: Path, env: dict[str, str]
) -> StepRun:
    """Run `step` with `arguments` in a fresh Python process; raise BenchmarkError if it fails."""
    command = [sys.executable, "-m", "benchmarks.steps", step, json.dumps(arguments)]
    result_file.unlink(missing_ok=True)
    started = time.perf_counter()
    completed = subprocess.run(
        [*command, str(result_file)], env=env, capture_output=True, text=True, check=False
    )
    wall_seconds = time.perf_counter() - started
    if not result_file.exists():
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-15:])
        raise BenchmarkError(f"step {label!r} crashed (exit code {completed.returncode}):\n{tail}")
    outcome = json.loads(result_file.read_text())
    if "error" in outcome:
        raise BenchmarkError(f"step {label!r} failed: {outcome['error']}")
    return StepRun(label, outcome["result"], round(wall_seconds, 3), outcome["peak_rss_mb"])


def _own_peak_rss_kib() -> int:
    # ru_maxrss survives execve, so a step would report at least the size of the process that
    # started it; Linux's VmHWM is the high-water mark of this process image alone
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_rss_mb() -> float:
    # in KiB; the children's figure is the largest waited-for child (dbt, for instance)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(_own_peak_rss_kib(), children) / 1024, 1)


def main(argv: list[str]) -> int:
    """Run one step; write `{"result", "peak_rss_mb"}` or `{"error"}` to the result file."""
    step, arguments, result_file = argv
    try:
        outcome: dict[str, Any] = {"result": STEPS[step](**json.loads(arguments))}
    except BenchmarkError as error:
        outcome = {"error": str(error)}
    # any other failure is a bug or an environment problem: keep its traceback for the report
    except Exception:
        outcome = {"error": traceback.format_exc(limit=-3)}
    outcome["peak_rss_mb"] = _peak_rss_mb()
    Path(result_file).write_text(json.dumps(outcome, default=str))
    return 1 if "error" in outcome else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
