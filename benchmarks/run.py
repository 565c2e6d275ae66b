"""`python -m benchmarks.run --scale SF [--days N] [--out DIR]`: the whole benchmark.

On a fresh data folder: simulate, load every source, time each file kind's loader against
DuckDB's native reader, each API loader against a bare HTTP client, the PostgreSQL load
against COPY, a full `dbt build`, then one more day loaded and built incrementally against a
full refresh. Every comparison is a ratio within this one run. Writes
`bench_sf<SF>_<N>d.json` and `.md` below DIR.

Scale factor 1 over the default 365 days is one year of a mid-size retailer. Simulating it takes
about half an hour, so `--simulation-cache DIR` keeps a copy of each finished simulation and
later runs of the same scale, days and seed copy it instead of simulating again (the report
then shows the cached simulation's own time and memory).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import secrets
import shutil
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.errors import BenchmarkError
from benchmarks.report import render_markdown, summarise
from benchmarks.steps import API_SOURCES, StepRun, run_step

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT_DIR / "benchmarks" / "results"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432"
# A week of consecutive daily runs: their cost must stay flat as the history grows.
DEFAULT_DAILY_RUNS = 7
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU model and the versions of everything measured."""
    cpu_model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory_gb = round(total_kb / 1024**2, 1)
    versions = {"python": platform.python_version()}
    for package in ("duckdb", "dlt", "dbt-core", "dbt-duckdb", "psycopg2-binary"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "versions": versions,
    }


def postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> str | None:
    """None when something answers on host:port, else why not."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as error:
        return f"no PostgreSQL server answers on {host}:{port} ({error.strerror or error})"


class Bench:
    """Runs the steps of one benchmark against one data folder and collects their results."""

    def __init__(self, data_dir: Path, postgres_url: str, simulation_cache: Path | None = None):
        self.data_dir = data_dir
        self.simulation_cache = simulation_cache
        self.work_dir = data_dir / "bench"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.duckdb_path = data_dir / "warehouse.duckdb"
        self.postgres_url = postgres_url
        self.steps: list[StepRun] = []
        sources_dir = data_dir / "sources"
        # Explicit source locations: a developer's .dlt/secrets.toml or environment must not
        # point the benchmark at another shop database or drop folder.
        self.env = {
            **os.environ,
            **TELEMETRY_OFF,
            "WAREHOUSE_DATA_DIR": str(data_dir),
            "WAREHOUSE_DUCKDB_PATH": str(self.duckdb_path),
            "SOURCES__SHOP__CREDENTIALS": f"sqlite:///{sources_dir / 'shop.sqlite'}",
            "SOURCES__WEB__BUCKET_URL": str(sources_dir / "web"),
            "SOURCES__LOGISTICS__BUCKET_URL": str(sources_dir / "logistics"),
        }

    def step(self, label: str, step: str, **arguments: Any) -> dict[str, Any]:
        """Run one step in a subprocess, print a progress line and keep its figures."""
        print(f"  {label} ...", end="", flush=True)
        run = run_step(label, step, arguments, self.work_dir / "step.json", self.env)
        print(f" {run.wall_seconds:.1f} s, peak {run.peak_rss_mb:.0f} MB", flush=True)
        self.steps.append(run)
        return run.result

    def run(
        self, scale: float, days: int, seed: int, daily_runs: int = DEFAULT_DAILY_RUNS
    ) -> dict[str, Any]:
        """Every measurement; returns the raw step results keyed by measurement."""
        from simulator.api_server import ApiServer

        data, sources = str(self.data_dir), str(self.data_dir / "sources")
        raw: dict[str, Any] = {}
        raw["simulate"] = self._simulate(scale, days, seed)
        token = secrets.token_hex(16)
        server = ApiServer(self.data_dir, port=0, token=token).start()
        try:
            for name in API_SOURCES:
                self.env[f"SOURCES__{name.upper()}__BASE_URL"] = f"{server.base_url}/{name}/v1"
                self.env[f"SOURCES__{name.upper()}__TOKEN"] = token
            raw["load"] = self.step(
                "load (all sources, DuckDB)",
                "load",
                data_dir=data,
                duckdb_path=str(self.duckdb_path),
            )
            raw["http_baseline"] = self.step(
                "bare HTTP client", "http_baseline", base_url=server.base_url, token=token
            )
            raw["file_loaders"] = self.step(
                "file loaders one kind at a time (those sharing a source)",
                "file_loaders",
                sources_dir=sources,
                work_dir=str(self.work_dir / "file_loaders"),
            )
            raw["native_readers"] = self.step(
                "DuckDB native readers",
                "native_readers",
                sources_dir=sources,
                duckdb_path=str(self.work_dir / "native.duckdb"),
            )
            raw["postgres"] = self._postgres()
            raw["dbt_build"] = self.step(
                "dbt build", "dbt_build", data_dir=data, duckdb_path=str(self.duckdb_path)
            )
            later_days = range(1, daily_runs + 1)
            raw["daily_runs"] = [self._daily_run(day, scale, seed) for day in later_days]
        finally:
            server.stop()
        raw["dbt_full_refresh"] = self.step(
            "dbt build --full-refresh",
            "dbt_build",
            data_dir=data,
            duckdb_path=str(self.duckdb_path),
            full_refresh=True,
        )
        return raw

    def _daily_run(self, day: int, scale: float, seed: int) -> dict[str, Any]:
        """One more simulated day: the simulation (not a cost of the warehouse), then the day's
        load and `dbt build`, as a scheduler would run them each morning."""
        data = str(self.data_dir)
        self.step(f"simulate day +{day}", "simulate", data_dir=data, days=1, scale=scale, seed=seed)
        load = self.step(
            f"load day +{day}", "load", data_dir=data, duckdb_path=str(self.duckdb_path)
        )
        build = self.step(
            f"dbt build day +{day} (incremental)",
            "dbt_build",
            data_dir=data,
            duckdb_path=str(self.duckdb_path),
        )
        return {"load": load, "build": build}

    def _simulate(self, scale: float, days: int, seed: int) -> dict[str, Any]:
        """Simulate into the data folder, or copy a cached simulation of the same parameters."""
        sources = self.data_dir / "sources"
        arguments = {"data_dir": str(self.data_dir), "days": days, "scale": scale, "seed": seed}
        if self.simulation_cache is None:
            return self.step("simulate", "simulate", **arguments)
        cached = self.simulation_cache / f"sf{scale:g}_{days}d_seed{seed}"
        # written last, so a simulation cut off half-way is never taken for a finished one
        receipt = cached / "simulation.json"
        if receipt.exists():
            print(f"  simulate: copying the cached simulation {cached} ...", flush=True)
            shutil.copytree(cached / "sources", sources)
            run = StepRun(**json.loads(receipt.read_text()))
            self.steps.append(run)
            return run.result
        result = self.step("simulate", "simulate", **arguments)
        shutil.rmtree(cached, ignore_errors=True)
        shutil.copytree(sources, cached / "sources")
        receipt.write_text(json.dumps(dataclasses.asdict(self.steps[-1])))
        return result

    def _postgres(self) -> dict[str, Any]:
        unreachable = postgres_reachable()
        if unreachable:
            print(f"  PostgreSQL skipped: {unreachable}", flush=True)
            return {"skipped": unreachable}
        # its own data folder: the pipelines' state must not say the DuckDB load read everything
        postgres_dir = self.work_dir / "postgres"
        database = f"larkspur_bench_{secrets.token_hex(4)}"
        try:
            return self.step(
                "load (all sources, PostgreSQL) and COPY",
                "postgres",
                data_dir=str(postgres_dir),
                server_url=self.postgres_url,
                database=database,
            )
        except BenchmarkError as error:
            print(f" failed: {error}", flush=True)
            return {"skipped": f"the PostgreSQL benchmark failed: {error}"}


def run_benchmark(
    scale: float,
    days: int,
    *,
    seed: int = 42,
    out_dir: Path = DEFAULT_OUT,
    data_dir: Path | None = None,
    postgres_url: str = DEFAULT_POSTGRES_URL,
    simulation_cache: Path | None = None,
    daily_runs: int = DEFAULT_DAILY_RUNS,
) -> tuple[dict[str, Any], Path, Path]:
    """Run the whole benchmark; return the results and the JSON and Markdown files written.

    `data_dir` must not exist yet or be empty; by default a temporary folder is used and
    removed afterwards. `simulation_cache`, when given, keeps finished simulations for reuse.
    """
    if data_dir is not None and data_dir.exists() and any(data_dir.iterdir()):
        raise BenchmarkError(
            f"the data folder {data_dir} is not empty: the benchmark needs a fresh one; "
            "name a new folder or leave out --data-dir"
        )
    temporary = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="larkspur-bench-")) if temporary else data_dir
    folder.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    stem = f"bench_sf{scale:g}_{days}d"
    out_dir.mkdir(parents=True, exist_ok=True)

    def meta() -> dict[str, Any]:
        return {
            "scale": scale,
            "days": days,
            "seed": seed,
            "started_at": started_at.isoformat(timespec="seconds"),
            "total_seconds": round(time.perf_counter() - clock, 1),
            "command": f"python -m benchmarks.run --scale {scale} --days {days}",
            "machine": machine_info(),
        }

    bench = Bench(
        folder.resolve(), postgres_url, simulation_cache.resolve() if simulation_cache else None
    )
    try:
        raw = bench.run(scale, days, seed, daily_runs)
    except BenchmarkError as error:
        # a run at scale factor 1 takes hours: what the finished steps measured is kept
        partial_file = out_dir / f"{stem}.partial.json"
        partial = {
            "meta": meta(),
            "error": str(error),
            "finished_steps": [dataclasses.asdict(step) for step in bench.steps],
        }
        partial_file.write_text(json.dumps(partial, indent=2) + "\n")
        message = f"{error}\nthe finished steps' figures are in {partial_file}"
        raise BenchmarkError(message) from error
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    results = summarise(meta(), raw, bench.steps)
    json_file = out_dir / f"{stem}.json"
    markdown_file = out_dir / f"{stem}.md"
    json_file.write_text(json.dumps(results, indent=2) + "\n")
    markdown_file.write_text(render_markdown(results))
    (out_dir / f"{stem}.partial.json").unlink(missing_ok=True)
    return results, json_file, markdown_file


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.01, help="scale factor (default 0.01)")
    parser.add_argument(
        "--days", type=int, default=365, help="days to simulate (default 365: one year)"
    )
    parser.add_argument("--seed", type=int, default=42, help="simulator seed (default 42)")
    parser.add_argument(
        "--daily-runs",
        type=int,
        default=DEFAULT_DAILY_RUNS,
        help=f"consecutive days loaded and built after the history (default {DEFAULT_DAILY_RUNS})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the results")
    parser.add_argument(
        "--data-dir", type=Path, help="fresh folder to keep the data in (default: temporary)"
    )
    parser.add_argument(
        "--simulation-cache",
        type=Path,
        help="folder that keeps finished simulations and reuses them (default: simulate anew)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server URL without database; a throw-away database is created and dropped",
    )
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.days < 1 or args.daily_runs < 1:
        parser.error("--scale must be positive, --days and --daily-runs at least 1")
    print(f"Benchmark at scale {args.scale:g} x {args.days} days", flush=True)
    try:
        results, json_file, markdown_file = run_benchmark(
            args.scale,
            args.days,
            seed=args.seed,
            out_dir=args.out,
            data_dir=args.data_dir,
            postgres_url=args.postgres_url.rstrip("/"),
            simulation_cache=args.simulation_cache,
            daily_runs=args.daily_runs,
        )
    except BenchmarkError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 1
    print(f"\n{render_markdown(results)}\nwrote {json_file} and {markdown_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
