"""`make clean` removes what `make setup` and the builds made, never the data folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
GENERATED = [".venv", ".tools", "target", "logs"]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder laid out like a project someone ran `make demo` in."""
    for name in [*GENERATED, "data"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "file").write_text(name)
    return tmp_path


def make(target: str, folder: Path) -> None:
    subprocess.run(
        ["make", "--no-print-directory", "-f", str(MAKEFILE), "-C", str(folder), target],
        check=True,
        capture_output=True,
    )


def test_clean_keeps_the_data_folder(checkout: Path) -> None:
    make("clean", checkout)
    assert sorted(path.name for path in checkout.iterdir()) == ["data"]
    assert (checkout / "data" / "file").read_text() == "data"


def test_clean_data_removes_the_data_folder_alone(checkout: Path) -> None:
    make("clean-data", checkout)
    assert sorted(path.name for path in checkout.iterdir()) == sorted(GENERATED)
