"""Failures a user can meet end in one clear message, and only the failing source stops."""

import gzip
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from loaders import LoaderError, load
from tests.loaders.conftest import Warehouse, copy_sources


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unknown_source_fails_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="unknown source 'crm'"):
        load(["web", "crm"], data_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unknown_destination_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="unknown destination 'snowflake'"):
        load(["web"], data_dir=tmp_path, destination="snowflake")


def test_a_duckdb_file_held_by_another_process_gives_a_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LoaderError, match="another process holds the DuckDB file"):
            load(["web"], data_dir=tmp_path, duckdb_path=database)
    finally:
        holder.communicate("", timeout=30)


def test_a_missing_shop_database_fails_only_the_shop(tmp_path: Path) -> None:
    (tmp_path / "sources" / "web").mkdir(parents=True)
    report = load(["shop", "web"], data_dir=tmp_path)
    shop, web = report.results
    assert not shop.ok
    assert "shop.sqlite does not exist: run `warehouse simulate` first" in shop.error
    assert web.ok and web.files_read == []
    assert not report.ok
    status = Warehouse(tmp_path, report).query(
        "select source, status, error from raw_meta.load_runs order by started_at"
    )
    assert [(source, state) for source, state, _ in status] == [("shop", "failed"), ("web", "ok")]
    assert status[0][2] == shop.error


def test_an_unreachable_api_fails_only_that_source(
    simulated_dir: Path,
    api_server: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCES__PAYMENTS__BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    data_dir = copy_sources(simulated_dir, tmp_path)
    report = load(["payments", "fx"], data_dir=data_dir)
    payments, fx = report.results
    assert not payments.ok
    assert payments.error.startswith("cannot reach the payments API")
    assert "warehouse serve-api" in payments.error
    assert fx.ok
    assert fx.rows["rates"] == Warehouse(data_dir, report).count("raw_fx.rates") > 0


def test_a_wrong_token_is_named(
    simulated_dir: Path, api_server: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__FX__TOKEN", "not-the-token")
    report = load(["fx"], data_dir=copy_sources(simulated_dir, tmp_path))
    assert report.result("fx").error.startswith("the fx API answered 401")
    assert "check sources.fx.token" in report.result("fx").error


def test_a_missing_token_says_where_to_set_it(
    simulated_dir: Path, api_server: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCES__ADS__TOKEN")
    report = load(["ads"], data_dir=copy_sources(simulated_dir, tmp_path))
    error = report.result("ads").error
    assert error.startswith("missing configuration sources.ads.token")
    assert "SOURCES__ADS__TOKEN" in error


def test_a_corrupt_file_is_named_and_read_again_once_fixed(
    simulated_dir: Path, tmp_path: Path
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    web_dir = data_dir / "sources" / "web"
    # a week of files is enough and keeps the test fast
    for extra in sorted(web_dir.glob("events_*.jsonl.gz"))[7:]:
        extra.unlink()
    victim = sorted(web_dir.glob("events_*.jsonl.gz"))[3]
    original = victim.read_bytes()
    victim.write_bytes(original[: len(original) // 2])
    victim_events = sum(1 for line in gzip.decompress(original).splitlines() if line.strip())

    warehouse = Warehouse(data_dir, load(["web"], data_dir=data_dir))
    broken = warehouse.report.result("web")
    assert not broken.ok
    assert f"cannot read web/{victim.name}" in broken.error
    assert "read again on the next run" in broken.error
    all_files = sorted(f"web/{path.name}" for path in web_dir.iterdir())
    assert sorted(broken.files_read) == [f for f in all_files if f != f"web/{victim.name}"]
    assert (
        warehouse.scalar(
            "select count(*) from raw_web.events where _source_file = ?", [f"web/{victim.name}"]
        )
        == 0
    )
    events_before = warehouse.count("raw_web.events")

    victim.write_bytes(original)
    fixed = warehouse.load(["web"]).result("web")
    assert fixed.ok, fixed.error
    assert fixed.files_read == [f"web/{victim.name}"]
    assert 0 < warehouse.count("raw_web.events") - events_before <= victim_events
