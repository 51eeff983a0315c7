"""A faithful simulator of the five runs APIs (see `runwatch.sim.app`)."""

from runwatch.sim.app import PROVIDERS, Simulator
from runwatch.sim.core import Fault, SimClock, SimSettings, demo_tokens

__all__ = ["PROVIDERS", "Fault", "SimClock", "SimSettings", "Simulator", "demo_tokens"]
