"""runwatch: a terminal dashboard for CI and test runs across several runs APIs."""

# The single source of the version (pyproject reads it from here); a literal, because
# importlib.metadata costs ~0.1 s at every start.
__version__ = "0.1.0"

import sys

# httpx imports its command-line client (click, rich's progress bars, pygments) whenever click
# is installed, and uvicorn installs it: 50-85 ms of every start, for a command runwatch never
# runs. A None entry in sys.modules makes that one import fail, the way httpx expects when its
# `cli` extra is missing (it then defines a stub `httpx.main`); nothing else of httpx changes.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: see above
