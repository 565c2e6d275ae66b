"""`warehouse status`: one row per raw_<source> schema, every column under a header."""

from __future__ import annotations

from pathlib import Path

from loaders import load
from tests.loaders.test_registry import TOY_ROWS, toy_source  # noqa: F401 (a fixture)
from tests.warehouse.conftest import run_warehouse

HEADERS = ["source", "last load (UTC)", "age", "loads", "tables", "rows", "quarantined", "last run"]


def test_every_status_column_has_a_header(toy_source: str, tmp_path: Path) -> None:  # noqa: F811
    report = load([toy_source], data_dir=tmp_path, duckdb_path=tmp_path / "warehouse.duckdb")
    assert report.ok, report.results

    result = run_warehouse("status", "--data-dir", str(tmp_path))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    [header] = [line for line in lines if "source" in line and "quarantined" in line]
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == HEADERS
    [row] = [line for line in lines if line.startswith("│ toy")]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert len(cells) == len(HEADERS)
    assert (cells[0], cells[5], cells[7]) == ("toy", f"{TOY_ROWS:,}", "ok")
