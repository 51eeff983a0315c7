"""pydantic's plugin search, skipped when there is no plugin to find (issue 12, goal 3).

Building its first model, pydantic asks for the distributions declaring a `pydantic` entry
point (its plugins, e.g. an observability package's). The loader that asks,
`pydantic.plugin._loader`, imports `importlib.metadata` (and with it zipfile, csv and
more), then parses every installed distribution's metadata: a fixed cost of every
command's start that finds nothing in the usual install, where no plugin is installed.
PYDANTIC_DISABLE_PLUGINS does not avoid it: the import is at the top of that module, and
the variable only skips the reading.

`skip_plugin_search()` reads the same `entry_points.txt` files itself (a few small files)
and, only when none declares the `pydantic` group, puts a loader that returns no plugin
where pydantic looks for its own. With a plugin installed, a path it cannot read (a zip or
an egg), or another finder of distributions on `sys.meta_path`, nothing changes and
pydantic loads its plugins as ever (tests/test_import_hygiene.py holds both ways).

The stand-in takes the place of a private module, so it is put there only for the pydantic
versions it was checked against (TESTED_PYDANTIC): in those, `plugin/_loader.py` holds
`get_plugins()`, which returns the plugins found (an empty iterable when there is none),
and its one user, `plugin/_schema_validator.py`, imports nothing else from it. On any other
version (or one this cannot read without importing pydantic) pydantic searches itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from importlib.machinery import PathFinder

LOADER = "pydantic.plugin._loader"
GROUP = "pydantic"
# pydantic versions whose plugin loader was read and the stand-in tested against (a new one
# is added once tests/test_import_hygiene.py passes with it installed).
TESTED_PYDANTIC = frozenset({"2.14.4"})


def skip_plugin_search() -> bool:
    """Stand in for pydantic's plugin loader when no installed distribution declares a
    pydantic plugin; True when it did. Call before the first model is built."""
    if LOADER in sys.modules or pydantic_version() not in TESTED_PYDANTIC \
            or _may_declare_plugins(sys.path):
        return False
    import types

    loader = types.ModuleType(LOADER, "runwatch's stand-in: no pydantic plugin is installed")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[LOADER] = loader
    return True


def _no_plugins() -> tuple[()]:
    return ()


def pydantic_version() -> str | None:
    """The VERSION in the `pydantic/version.py` that `import pydantic` would load, read
    without importing it (that is 50-70 ms, and not every command needs pydantic); None
    when it cannot be read so."""
    from importlib.util import find_spec

    try:
        spec = find_spec("pydantic")  # a top-level package: found, not executed
    except (ImportError, ValueError):
        return None
    places = spec.submodule_search_locations if spec is not None else None
    if not places:
        return None
    try:
        with open(os.path.join(next(iter(places)), "version.py"), encoding="utf-8") as file:
            lines = file.read().splitlines()
    except OSError:
        return None
    for line in lines:
        name, equals, value = line.partition("=")
        if equals and name.strip() == "VERSION":
            return value.strip().strip("'\"")
    return None


def _may_declare_plugins(paths: Iterable[str]) -> bool:
    """Whether importlib.metadata could find a `pydantic` entry point on `paths`: True on
    anything this cannot read the way it does."""
    if any(f is not PathFinder and hasattr(f, "find_distributions") for f in sys.meta_path):
        return True  # a finder of its own: only importlib.metadata knows what it finds
    for entry in paths:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return True  # a zip or an egg on the path
        except OSError:
            continue  # gone or unreadable: importlib.metadata finds nothing there either
        for name in names:
            if name.endswith((".dist-info", ".egg-info")) and _declares(
                    os.path.join(folder, name, "entry_points.txt")):
                return True
    return False


def _declares(path: str) -> bool:
    """Whether this entry_points.txt has a [pydantic] section (read as importlib.metadata
    reads sections: the stripped line in brackets, its name stripped)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = file.read().splitlines()
    except OSError:
        return False  # no entry points at all (most distributions), or an .egg-info file
    for line in lines:
        line = line.strip()
        if line.startswith("[") and line.endswith("]") and line[1:-1].strip() == GROUP:
            return True
    return False
