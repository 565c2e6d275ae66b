"""A deterministic simulator of Larkspur's source systems and the server of its REST APIs."""

from simulator.config import DefectRates, SimulatorError
from simulator.engine import SimulationResult, simulate

__all__ = ["DefectRates", "SimulationResult", "SimulatorError", "simulate"]
