"""One check of WAREHOUSE_DUCKDB_MEMORY_LIMIT, made the same way by the CLI and the loaders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from loaders import LoaderError, load
from warehouse.errors import WarehouseError
from warehouse.settings import PROJECT_DIR, duckdb_memory_limit

REFUSED = {
    "lots": "is not a size DuckDB understands",
    "-1": "is not a size DuckDB understands",
    "80%": "is not a size DuckDB understands",
    "1KB": "is below the 64MB",
    "63MB": "is below the 64MB",
}
ACCEPTED = ["3GB", "64MB", "500MB", "1GiB"]


@pytest.mark.parametrize(("limit", "reason"), REFUSED.items(), ids=REFUSED.keys())
def test_a_limit_duckdb_cannot_work_with_is_refused_by_the_cli_and_the_loaders_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str, reason: str
) -> None:
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", limit)
    with pytest.raises(WarehouseError) as refused:
        duckdb_memory_limit()
    message = str(refused.value)
    assert message.startswith(f"WAREHOUSE_DUCKDB_MEMORY_LIMIT={limit!r} {reason}")
    assert "set it like 2GB or 500MB (at least 64MB)" in message
    assert "\n" not in message
    with pytest.raises(LoaderError) as refused_load:
        load(["fx"], data_dir=tmp_path)
    assert str(refused_load.value) == message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("limit", ACCEPTED)
def test_a_size_of_at_least_64mb_is_passed_on_as_written(
    monkeypatch: pytest.MonkeyPatch, limit: str
) -> None:
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", limit)
    assert duckdb_memory_limit() == limit


def test_an_unset_or_empty_limit_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "")
    assert duckdb_memory_limit() == "2GB"
    monkeypatch.delenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT")
    assert duckdb_memory_limit() == "2GB"


def test_the_cli_exports_the_memory_cap_dbt_reads_and_the_profile_writes_its_default_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse.cli import instance

    environment = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_DUCKDB_MEMORY_LIMIT"}
    monkeypatch.setattr(os, "environ", environment)
    instance(tmp_path)
    assert environment["WAREHOUSE_DUCKDB_MEMORY_LIMIT"] == "2GB"
    profile = (PROJECT_DIR / "profiles.yml").read_text()
    # `.venv/bin/dbt build` without the CLI still gets the cap: one default, in the profile
    assert profile.count("WAREHOUSE_DUCKDB_MEMORY_LIMIT") == 1
    outputs = yaml.safe_load(profile)["larkspur"]["outputs"]
    assert outputs["ci"]["settings"] == outputs["dev"]["settings"]
