"""What the start-up budgets' baselines import, when asked, to show what the libraries alone
cost (bench_startup's rows without a budget): imported by the timed programs only under
their flag, so the baselines themselves do not load this module."""

import importlib

# What `runwatch list` cannot do without and the plain client does not need: asyncio for
# the concurrent sources, argparse, tomllib for the config, orjson, pydantic for the
# boundary checks (plain_client.py --with-libraries).
LIST_LIBRARIES = ("asyncio", "argparse", "tomllib", "orjson", "pydantic", "pydantic.fields",
                  "pydantic.type_adapter")

# What runwatch's models and config cost to import before any model is built
# (minimal_app.py --with-pydantic).
DASHBOARD_LIBRARIES = ("tomllib", "pydantic", "pydantic.fields", "pydantic.type_adapter")


def named(libraries: tuple[str, ...]) -> str:
    """The top-level packages, for a row's label: `asyncio, argparse, ...`."""
    return ", ".join(dict.fromkeys(name.split(".")[0] for name in libraries))


def load(libraries: tuple[str, ...]) -> None:
    """Import each of `libraries`, as a baseline does under its flag."""
    for name in libraries:
        importlib.import_module(name)
