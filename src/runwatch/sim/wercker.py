"""Simulated wercker API (placeholder until its module lands)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette


class SimulatedApi:
    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.app = Starlette(routes=[])
