"""Each call of a file source builds resources of its own: hints one load applies (dlt's
`pipeline.run(loader_file_format=...)` sets them on every resource and its table variants)
never reach the next load of the same process."""

from __future__ import annotations

from pathlib import Path

import dlt
import pytest

from loaders.files import DELIVERIES_TABLE
from loaders.logistics import logistics
from loaders.web import web
from simulator import simulate

SOURCES = {"web": web, "logistics": logistics}


@pytest.fixture(scope="module")
def sources_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("source_instances")
    simulate(data_dir, 1, scale=0.001)
    return data_dir / "sources"


@pytest.mark.parametrize("name", SOURCES)
def test_a_file_format_one_load_asked_for_does_not_reach_the_next(
    name: str, sources_dir: Path, tmp_path: Path
) -> None:
    # as a PostgreSQL load (CSV) followed by a lake load (Parquet) in one process: the first
    # load's format stuck to file_deliveries, and the lake, which registers Parquet, lost them
    formats = {}
    for file_format in ("jsonl", "parquet"):
        pipeline = dlt.pipeline(
            pipeline_name=f"{name}_{file_format}",
            pipelines_dir=str(tmp_path / "pipelines"),
            destination=dlt.destinations.duckdb(str(tmp_path / f"{file_format}.duckdb")),
            dataset_name=f"raw_{name}",
        )
        source = SOURCES[name](bucket_url=str(sources_dir / name))
        pipeline.extract(source, loader_file_format=file_format)
        formats[file_format] = pipeline.default_schema.tables[DELIVERIES_TABLE].get("file_format")
    assert formats == {"jsonl": "jsonl", "parquet": "parquet"}
