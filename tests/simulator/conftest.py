"""Simulations shared by the simulator tests: made once per session, at a tiny scale."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator import SimulationResult, simulate

DAYS = 60
SCALE = 0.01


@dataclass(frozen=True)
class Simulated:
    """A finished simulation and its sources folder."""

    result: SimulationResult
    sources: Path

    @property
    def truth(self) -> dict:
        return json.loads((self.sources / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def sixty_days(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    """60 days at scale 0.01 in one run."""
    result = simulate(tmp_path_factory.mktemp("sixty"), DAYS, scale=SCALE)
    return Simulated(result, result.sources_dir)


@pytest.fixture(scope="session")
def sixty_days_in_two_runs(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    """The same 60 days simulated as 20 and then 40 more, in a separate folder."""
    data_dir = tmp_path_factory.mktemp("twenty-then-forty")
    simulate(data_dir, 20, scale=SCALE)
    result = simulate(data_dir, 40)
    return Simulated(result, result.sources_dir)
