"""`--target` is a dbt target and `--warehouse` a warehouse type, each a fixed choice."""

from __future__ import annotations

from pathlib import Path

from tests.warehouse.conftest import run_warehouse


def test_build_takes_only_a_dbt_target(tmp_path: Path) -> None:
    result = run_warehouse("build", "--target", "duckdb", "--data-dir", str(tmp_path), timeout=60)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "'duckdb' is not one of 'dev', 'ci', 'postgres'" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_demo_takes_only_a_warehouse_type_and_starts_nothing_otherwise(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for option in ("--warehouse", "--target"):  # --target: the spelling before --warehouse
        result = run_warehouse("demo", option, "dev", "--data-dir", str(data_dir), timeout=60)

        assert result.returncode == 2, result.stdout + result.stderr
        assert "'dev' is not one of 'duckdb', 'postgres'" in result.stderr
        assert not data_dir.exists()


def test_help_names_the_choices() -> None:
    build_help = run_warehouse("build", "--help", timeout=60).stdout
    demo_help = run_warehouse("demo", "--help", timeout=60).stdout

    assert "dev|ci|postgres" in build_help
    assert "--warehouse" in demo_help and "duckdb|postgres" in demo_help


def test_help_flows_each_paragraph_and_keeps_placeholders() -> None:
    # COLUMNS=400: a paragraph is one line unless the docstring's own line breaks survive
    build_help = run_warehouse("build", "--help", timeout=60).stdout
    load_help = run_warehouse("load", "--help", timeout=60).stdout

    assert "and their data tests check the rows this build wrote" in build_help
    assert "the warehouse's raw_<source> schemas" in load_help
