"""The benchmark harness end to end at a tiny scale: every section present, counts add up.

No timing is asserted: the machine decides those. What is asserted is that each comparison
measured the same data on both sides and that every rate is a real, positive number.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

import benchmarks.run
from benchmarks.errors import BenchmarkError
from benchmarks.run import DEFAULT_POSTGRES_URL, Bench, main
from tests.conftest import services_required
from warehouse.settings import PROJECT_DIR

EXPOSURES = yaml.safe_load(
    (PROJECT_DIR / "models" / "marts" / "_marts__exposures.yml").read_text(encoding="utf-8")
)

pytestmark = pytest.mark.e2e

# Refunds first appear on day 20 at this scale, and dbt build needs every raw table to exist.
BENCH_SCALE = 0.002
BENCH_DAYS = 21
# two are enough to show consecutive days; `make bench` runs a week
BENCH_DAILY_RUNS = 2

SECTIONS = (
    "meta",
    "simulated_rows",
    "sources",
    "file_loaders",
    "api_loaders",
    "postgres",
    "dbt",
    "incremental",
    "memory",
    "end_to_end",
)


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out_dir = tmp_path_factory.mktemp("bench_out")
    data_dir = tmp_path_factory.mktemp("bench_data")
    exit_code = main(
        [
            "--scale",
            str(BENCH_SCALE),
            "--days",
            str(BENCH_DAYS),
            "--daily-runs",
            str(BENCH_DAILY_RUNS),
            "--out",
            str(out_dir),
            "--data-dir",
            str(data_dir),
        ]
    )
    assert exit_code == 0
    results_file = out_dir / f"bench_sf{BENCH_SCALE:g}_{BENCH_DAYS}d.json"
    return json.loads(results_file.read_text()), out_dir


@pytest.fixture(scope="module")
def results(bench_run: tuple[dict[str, Any], Path]) -> dict[str, Any]:
    return bench_run[0]


def test_every_section_is_written(results: dict[str, Any]) -> None:
    assert set(SECTIONS) <= set(results)
    meta = results["meta"]
    assert (meta["scale"], meta["days"]) == (BENCH_SCALE, BENCH_DAYS)
    assert meta["machine"]["cores"] >= 1
    assert meta["machine"]["memory_gb"] > 0
    assert set(meta["machine"]["versions"]) >= {"python", "duckdb", "dlt", "dbt-core"}


def test_markdown_holds_every_table(bench_run: tuple[dict[str, Any], Path]) -> None:
    markdown = (bench_run[1] / f"bench_sf{BENCH_SCALE:g}_{BENCH_DAYS}d.md").read_text()
    for heading in (
        "File loaders vs DuckDB's native readers",
        "API loaders vs a bare HTTP client",
        "PostgreSQL: loader vs COPY",
        "dbt build",
        "A week of daily runs against a full run",
        "Wall time and peak memory per step",
        "End to end",
    ):
        assert f"### {heading}" in markdown


def test_every_source_loads_rows(results: dict[str, Any]) -> None:
    sources = {source["source"]: source for source in results["sources"]}
    assert list(sources) == ["shop", "payments", "ads", "fx", "web", "logistics"]
    for source in sources.values():
        assert source["rows"] > 0 and source["rows_per_second"] > 0
    # one file per simulated day and kind
    assert sources["web"]["files_read"] == BENCH_DAYS
    assert sources["logistics"]["files_read"] == 3 * BENCH_DAYS


def test_file_loaders_and_native_readers_read_the_same_files(results: dict[str, Any]) -> None:
    kinds = {kind["kind"]: kind for kind in results["file_loaders"]}
    assert len(kinds) == 4
    simulated = results["simulated_rows"]
    for kind in kinds.values():
        assert kind["files"] == BENCH_DAYS
        assert kind["loader_rows_per_second"] > 0 and kind["native_rows_per_second"] > 0
        assert kind["ratio"] > 0
        # both sides skip or quarantine the few malformed lines; duplicates stay apart
        assert abs(kind["native_rows"] - kind["loader_rows"]) <= 0.05 * kind["native_rows"]
    # the web source reads one kind of file: its run in the full load is that kind's figure
    web_load = next(source for source in results["sources"] if source["source"] == "web")
    assert kinds["web events (jsonl.gz)"]["loader_rows"] == web_load["tables"]["events"]
    assert kinds["web events (jsonl.gz)"]["loader_seconds"] == web_load["seconds"]
    inventory = kinds["inventory (Parquet)"]
    # Parquet has no malformed rows: both sides read every snapshot row once
    assert inventory["loader_rows"] == inventory["native_rows"] == simulated["logistics.inventory"]


def test_api_loaders_and_bare_client_fetch_the_same_records(results: dict[str, Any]) -> None:
    apis = {api["source"]: api for api in results["api_loaders"]}
    assert list(apis) == ["payments", "ads", "fx"]
    for api in apis.values():
        assert api["client_records"] > 0 and api["client_requests"] > 0
        assert api["loader_rows_per_second"] > 0 and api["client_rows_per_second"] > 0
    simulated = results["simulated_rows"]
    assert apis["fx"]["client_records"] == apis["fx"]["loader_rows"] == simulated["fx.rates"]
    ads_entities = sum(
        simulated[f"ads.{table}"] for table in ("campaigns", "ad_groups", "daily_reports")
    )
    assert apis["ads"]["client_records"] == ads_entities


def test_postgres_load_is_compared_with_copy_of_the_same_rows(results: dict[str, Any]) -> None:
    postgres = results["postgres"]
    if not postgres_answers():
        if services_required():
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432; CI requires it")
        assert "no PostgreSQL server answers" in postgres["skipped"]
        return
    assert "skipped" not in postgres, postgres.get("skipped")
    duckdb_rows = {source["source"]: source["rows"] for source in results["sources"]}
    assert {source["source"]: source["rows"] for source in postgres["sources"]} == duckdb_rows
    assert postgres["copy_rows"] > 0 and postgres["copy_rows_per_second"] > 0
    assert postgres["loader_rows_per_second"] > 0
    # the write into PostgreSQL (dlt's normalize and load) is a part of each source's load
    for source in postgres["sources"]:
        assert set(source["step_seconds"]) == {"extract", "normalize", "load"}, source
        assert sum(source["step_seconds"].values()) <= source["seconds"]
    assert 0 < postgres["write_seconds"] < postgres["loader_seconds"]
    assert postgres["write_ratio"] > postgres["ratio"]


def test_dbt_build_timings(results: dict[str, Any]) -> None:
    dbt = results["dbt"]
    assert dbt["nodes"] > 100
    # exposures are nodes too: dbt build reports them as "no-op"
    assert set(dbt["status_counts"]) <= {"success", "pass", "warn", "no-op"}
    assert dbt["status_counts"]["no-op"] == len(EXPOSURES["exposures"])
    assert len(dbt["slowest_nodes"]) == 10
    seconds = [node["seconds"] for node in dbt["slowest_nodes"]]
    assert seconds == sorted(seconds, reverse=True) and seconds[0] > 0
    assert dbt["query_seconds"] > 0 and dbt["threads"] >= 1
    assert dbt["wall_seconds"] > dbt["dbt_elapsed_seconds"] > 0


def test_daily_runs_follow_new_days(results: dict[str, Any]) -> None:
    incremental = results["incremental"]
    days = incremental["days"]
    assert [day["day"] for day in days] == list(range(1, BENCH_DAILY_RUNS + 1))
    for day in days:
        assert day["rows_loaded"] > 0
        assert day["total_seconds"] == round(day["load_seconds"] + day["build_seconds"], 3)
        assert set(day["source_seconds"]) == {source["source"] for source in results["sources"]}
        assert 0 < sum(day["source_seconds"].values()) < day["load_seconds"]
    steps = {step["step"]: step["wall_seconds"] for step in results["memory"]}
    assert [day["simulate_seconds"] for day in days] == [
        steps[f"simulate day +{day['day']}"] for day in days
    ]
    full_refresh = incremental["full_refresh_build_seconds"]
    assert full_refresh > 0
    slowest_build = max(day["build_seconds"] for day in days)
    assert incremental["build_over_full_refresh"] == round(slowest_build / full_refresh, 3)
    totals = [day["total_seconds"] for day in days]
    assert incremental["slowest_over_fastest_day"] == round(max(totals) / min(totals), 3)


def test_every_step_reports_its_peak_memory(results: dict[str, Any]) -> None:
    steps = {step["step"]: step for step in results["memory"]}
    assert len(steps) >= 10
    for step in steps.values():
        assert step["peak_rss_mb"] > 10 and step["wall_seconds"] > 0
    # dbt runs in a grandchild process: its memory must be counted, not just the caller's
    assert steps["dbt build"]["peak_rss_mb"] > steps["bare HTTP client"]["peak_rss_mb"]


def test_end_to_end_totals(results: dict[str, Any]) -> None:
    end_to_end = results["end_to_end"]
    assert end_to_end["rows_loaded"] == sum(source["rows"] for source in results["sources"])
    assert end_to_end["total_seconds"] == pytest.approx(
        end_to_end["load_wall_seconds"] + end_to_end["build_wall_seconds"], abs=0.01
    )


def test_a_used_data_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "something").write_text("precious")
    assert main(["--scale", "0.001", "--days", "1", "--data-dir", str(tmp_path)]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert (tmp_path / "something").read_text() == "precious"


def test_a_cached_simulation_is_copied_not_simulated_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Bench(tmp_path / "first", DEFAULT_POSTGRES_URL, cache)
    simulated = first._simulate(scale=0.001, days=2, seed=7)
    receipt = json.loads((cache / "sf0.001_2d_seed7" / "simulation.json").read_text())
    assert receipt["name"] == "simulate"
    assert receipt["result"] == simulated

    second = Bench(tmp_path / "second", DEFAULT_POSTGRES_URL, cache)
    copied = second._simulate(scale=0.001, days=2, seed=7)
    assert copied == simulated
    # the copy's time and memory are the original simulation's, not the copy's
    assert second.steps[0].wall_seconds == first.steps[0].wall_seconds
    first_files = {
        path.relative_to(tmp_path / "first"): path.read_bytes()
        for path in (tmp_path / "first" / "sources").rglob("*")
        if path.is_file()
    }
    second_files = {
        path.relative_to(tmp_path / "second"): path.read_bytes()
        for path in (tmp_path / "second" / "sources").rglob("*")
        if path.is_file()
    }
    assert len(first_files) > 3
    assert second_files == first_files


def test_an_unfinished_cached_simulation_is_simulated_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # a simulation cut off before its receipt was written: half a folder, no simulation.json
    (cache / "sf0.001_1d_seed7" / "sources").mkdir(parents=True)
    (cache / "sf0.001_1d_seed7" / "sources" / "partial.tmp").write_text("cut off")
    bench = Bench(tmp_path / "data", DEFAULT_POSTGRES_URL, cache)
    result = bench._simulate(scale=0.001, days=1, seed=7)
    assert result["rows"]["shop.orders"] > 0
    assert not (cache / "sf0.001_1d_seed7" / "sources" / "partial.tmp").exists()
    assert (cache / "sf0.001_1d_seed7" / "simulation.json").exists()


def test_a_failed_step_keeps_what_the_finished_steps_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    real_run_step = benchmarks.run.run_step

    def run_step_failing_after_simulate(label: str, step: str, *arguments: Any) -> Any:
        if step != "simulate":
            raise BenchmarkError(f"step {label!r} failed: no space left on device")
        return real_run_step(label, step, *arguments)

    monkeypatch.setattr(benchmarks.run, "run_step", run_step_failing_after_simulate)
    out_dir = tmp_path / "out"
    arguments = ["--scale", "0.001", "--days", "1", "--out", str(out_dir)]
    assert main([*arguments, "--data-dir", str(tmp_path / "data")]) == 1

    partial_file = out_dir / "bench_sf0.001_1d.partial.json"
    partial = json.loads(partial_file.read_text())
    assert "no space left on device" in partial["error"]
    assert [step["name"] for step in partial["finished_steps"]] == ["simulate"]
    assert partial["finished_steps"][0]["result"]["rows"]["shop.orders"] > 0
    assert partial["meta"]["scale"] == 0.001
    assert not (out_dir / "bench_sf0.001_1d.json").exists()
    assert str(partial_file) in capsys.readouterr().err
