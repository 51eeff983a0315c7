"""Where runwatch keeps its files (the XDG base directories): the config, the state file,
the user's themes and the dashboard's debug log. Nothing here reads or writes them."""

from __future__ import annotations

import os
from pathlib import Path


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "runwatch" / "config.toml"


def state_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "runwatch" / "state.toml"


def user_theme_dir() -> Path:
    """`$XDG_DATA_HOME/runwatch/themes` (`~/.local/share/runwatch/themes`)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "runwatch" / "themes"


def debug_log_path() -> Path:
    """Where the dashboard's and the kiosk's --debug log goes: $XDG_STATE_HOME/runwatch/."""
    return state_path().parent / "debug.log"
