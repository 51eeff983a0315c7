"""The state file (`paths.state_path()`): what runwatch remembers between runs, such as the
theme last chosen. A missing or broken file is an empty state."""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w

from runwatch.paths import state_path


def load_state() -> dict[str, Any]:
    path = state_path()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def save_state(state: dict[str, Any]) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(state), encoding="utf-8")
    tmp.replace(path)
