"""`--destination spark`: the sources land as Parquet in the lake and Spark reads them as the
raw tables the DuckDB destination would hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.dataset as ds
import pytest

from loaders.registry import loader_datasets
from simulator import simulate
from tests.spark.conftest import data_folder, load_with_api

pytestmark = pytest.mark.spark

DATASETS = [f"raw_{name}" for name in loader_datasets()]


def duckdb_counts(path: Path) -> dict[str, int]:
    """Rows per raw table (dlt's `_dlt_loads` included, its other tables not)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            r"""
            select table_schema, table_name from information_schema.tables
            where table_schema like 'raw\_%' escape '\'
                and table_schema not like '%\_staging' escape '\'
                and (table_name not like '\_dlt%' escape '\' or table_name = '_dlt_loads')
            """
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }


def spark_counts(session: Any, lake_url: str) -> dict[str, int]:
    """Register the lake in Spark, then count each table's rows there."""
    from warehouse.spark import register_lake

    registration = register_lake(session, lake_url, DATASETS)
    return {
        f"{schema}.{table}": session.sql(f"select count(*) from `{schema}`.`{table}`").first()[0]
        for schema, tables in registration.tables.items()
        for table in tables
    }


def parquet_rows(folder: Path) -> int:
    return ds.dataset(folder, format="parquet").count_rows()


def test_lake_load_reads_in_spark_as_the_duckdb_load(
    spark: Any,
    simulated_sources: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_duckdb = data_folder(simulated_sources, tmp_path / "duckdb")
    on_lake = data_folder(simulated_sources, tmp_path / "lake")

    duckdb_report = load_with_api(on_duckdb, "duckdb", monkeypatch)
    lake_report = load_with_api(on_lake, "spark", monkeypatch)

    assert [(r.name, r.error) for r in lake_report.results if not r.ok] == []
    assert [(r.name, r.error) for r in duckdb_report.results if not r.ok] == []
    # the loaders' own counts agree before Spark is asked
    assert {r.name: r.rows for r in lake_report.results} == {
        r.name: r.rows for r in duckdb_report.results
    }
    expected = duckdb_counts(on_duckdb / "w.duckdb")
    assert {"raw_shop.orders", "raw_web.events", "raw_meta.load_runs"} <= set(expected)
    assert spark_counts(spark, str(on_lake / "lake")) == expected


def test_registration_picks_up_a_later_load(
    spark: Any, simulated_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_lake = data_folder(simulated_sources, tmp_path / "lake")
    lake = on_lake / "lake"
    load_with_api(on_lake, "spark", monkeypatch)
    first = spark_counts(spark, str(lake))

    simulate(on_lake, 1)
    report = load_with_api(on_lake, "spark", monkeypatch)
    assert report.ok, [r.error for r in report.results]
    second = spark_counts(spark, str(lake))

    # every table reads all of its files, the second day's too: nothing stale from the first
    # registration, and the loads' record grew by the second run's loads
    assert second == {
        table: (
            len(list((lake / table.replace(".", "/")).glob("*.jsonl")))
            if table.endswith("._dlt_loads")
            else parquet_rows(lake / table.replace(".", "/"))
        )
        for table in second
    }
    assert second["raw_shop._dlt_loads"] == first["raw_shop._dlt_loads"] + 1
    assert second["raw_shop.orders"] > first["raw_shop.orders"]
    assert second["raw_meta.load_runs"] == first["raw_meta.load_runs"] + len(report.results)
