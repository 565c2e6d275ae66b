"""Every command checks its data folder first and says in one line what is wrong with it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.warehouse.conftest import run_warehouse

# Commands that work on an existing data folder, with the arguments that get them past parsing.
COMMANDS_ON_AN_EXISTING_FOLDER = {
    "serve-api": ["serve-api", "--port", "0"],
    "load": ["load", "fx"],
    "build": ["build"],
    "docs": ["docs"],
    "status": ["status"],
    "query": ["query", "select 1"],
    "metrics": ["metrics", "list", "metrics"],
}
COMMANDS_THAT_WRITE = {
    "simulate": ["simulate", "--days", "1", "--scale", "0.001"],
    "load": ["load", "fx"],
    "build": ["build"],
}


@pytest.mark.parametrize(
    "arguments", COMMANDS_ON_AN_EXISTING_FOLDER.values(), ids=COMMANDS_ON_AN_EXISTING_FOLDER.keys()
)
def test_a_data_folder_that_does_not_exist_is_an_error(
    tmp_path: Path, arguments: list[str]
) -> None:
    missing = tmp_path / "no-such-folder"
    result = run_warehouse(*arguments, "--data-dir", str(missing), timeout=60)
    result.assert_one_error(f"there is no data folder at {missing}")
    assert not missing.exists()


def test_the_variable_names_a_missing_data_folder_too(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    result = run_warehouse("status", env={"WAREHOUSE_DATA_DIR": str(missing)})
    result.assert_one_error(f"there is no data folder at {missing}")


def test_simulate_starts_a_data_folder_that_does_not_exist(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    result = run_warehouse(
        "simulate", "--days", "1", "--scale", "0.001", "--data-dir", str(data_dir)
    )
    assert result.returncode == 0, result.stderr
    assert (data_dir / "sources" / "simulator_state.json").is_file()


@pytest.mark.parametrize("arguments", COMMANDS_THAT_WRITE.values(), ids=COMMANDS_THAT_WRITE.keys())
def test_a_data_folder_that_is_a_file_is_one_clear_line(
    tmp_path: Path, arguments: list[str]
) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("precious\n")
    result = run_warehouse(*arguments, "--data-dir", str(not_a_folder))
    result.assert_one_error(f"the data folder {not_a_folder} is a file")
    assert not_a_folder.read_text() == "precious\n"


def can_write_in(folder: Path) -> bool:
    try:
        (folder / ".probe").touch()
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write in: without write permission, or immutable for root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if can_write_in(folder) and shutil.which("chattr"):
        # root writes in any folder whatever its mode; an immutable one stops root too
        immutable = subprocess.run(["chattr", "+i", str(folder)], check=False).returncode == 0
    try:
        if can_write_in(folder):
            pytest.skip("cannot make a folder read-only here (root without chattr)")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("arguments", COMMANDS_THAT_WRITE.values(), ids=COMMANDS_THAT_WRITE.keys())
def test_a_read_only_data_folder_is_one_clear_line(
    read_only_folder: Path, arguments: list[str]
) -> None:
    result = run_warehouse(*arguments, "--data-dir", str(read_only_folder))
    result.assert_one_error(f"cannot write in the data folder {read_only_folder}")
    assert list(read_only_folder.iterdir()) == []


@pytest.mark.parametrize("limit", ["lots", "1KB"])
def test_a_memory_limit_duckdb_cannot_work_with_stops_the_build_before_dbt(
    tmp_path: Path, limit: str
) -> None:
    result = run_warehouse(
        "build", "--data-dir", str(tmp_path), env={"WAREHOUSE_DUCKDB_MEMORY_LIMIT": limit}
    )
    line = result.assert_one_error(f"WAREHOUSE_DUCKDB_MEMORY_LIMIT={limit!r}", "like 2GB")
    assert "at least 64MB" in line
    # dbt never started: it would have made its target and log folders
    assert list(tmp_path.iterdir()) == []


def test_a_memory_limit_too_small_stops_a_load_with_the_same_line(tmp_path: Path) -> None:
    result = run_warehouse(
        "load", "fx", "--data-dir", str(tmp_path), env={"WAREHOUSE_DUCKDB_MEMORY_LIMIT": "1KB"}
    )
    result.assert_one_error("WAREHOUSE_DUCKDB_MEMORY_LIMIT='1KB'", "at least 64MB")
    assert list(tmp_path.iterdir()) == []


def simulated_state(data_dir: Path) -> dict:
    return json.loads((data_dir / "sources" / "simulator_state.json").read_text())


def test_simulate_honours_seed_zero(tmp_path: Path) -> None:
    result = run_warehouse(
        "simulate", "--days", "1", "--scale", "0.001", "--seed", "0", "--data-dir", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "(seed 0," in result.stdout
    assert simulated_state(tmp_path)["seed"] == 0


def test_simulate_refuses_scale_zero(tmp_path: Path) -> None:
    result = run_warehouse("simulate", "--days", "1", "--scale", "0", "--data-dir", str(tmp_path))
    result.assert_one_error("scale must be above 0")
    assert not (tmp_path / "sources" / "simulator_state.json").exists()


def test_an_existing_simulation_refuses_seed_zero_instead_of_ignoring_it(tmp_path: Path) -> None:
    first = run_warehouse(
        "simulate", "--days", "1", "--scale", "0.001", "--data-dir", str(tmp_path)
    )
    assert first.returncode == 0, first.stderr
    again = run_warehouse("simulate", "--days", "1", "--seed", "0", "--data-dir", str(tmp_path))
    again.assert_one_error("seed=42, not 0")
    assert simulated_state(tmp_path)["days_simulated"] == 1
