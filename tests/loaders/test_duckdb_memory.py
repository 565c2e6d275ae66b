"""The loaders' DuckDB spills to disk above the memory cap dbt's profile sets too."""

from pathlib import Path

import dlt
import pytest

from loaders import LoaderError, load
from loaders.runner import duckdb_destination, duckdb_memory_limit


def memory_limit_seen_by_dlt(tmp_path: Path) -> str:
    pipeline = dlt.pipeline(
        pipeline_name="memory_probe",
        pipelines_dir=str(tmp_path / "pipelines"),
        destination=duckdb_destination(tmp_path / "warehouse.duckdb"),
        dataset_name="raw_probe",
    )
    pipeline.run([{"probe_id": 1}], table_name="probe")
    with pipeline.sql_client() as client:
        [(limit,)] = client.execute_sql("select current_setting('memory_limit')")
    return limit


def test_the_default_cap_is_the_one_in_the_dbt_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", raising=False)
    assert duckdb_memory_limit() == "2GB"
    profile = (Path(__file__).parents[2] / "profiles.yml").read_text()
    assert "env_var('WAREHOUSE_DUCKDB_MEMORY_LIMIT', '2GB')" in profile


def test_the_cap_reaches_the_connections_dlt_loads_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "1GB")
    # DuckDB reports 10^9 bytes in binary units
    assert memory_limit_seen_by_dlt(tmp_path) == "953.6 MiB"


def test_a_cap_duckdb_cannot_read_is_named_before_anything_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(LoaderError, match=r"WAREHOUSE_DUCKDB_MEMORY_LIMIT='lots'.*like 2GB"):
        load(["fx"], data_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
