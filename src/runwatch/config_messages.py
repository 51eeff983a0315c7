"""The words of config errors: what was wrong with a value, quoting it as TOML writes it.

runwatch.config maps a pydantic error's location to the file, source and key; this module
says the rest. Pydantic's own phrasing ("Input should be ...") never reaches a person.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any

# Keys whose numbers are seconds: their limits are said with the unit.
SECONDS_KEYS = frozenset({"interval", "timeout", "rotate", "token_timeout"})


def which_source(entry: object, index: int) -> str:
    """A source by its name, else by its place in the file and its provider."""
    name = entry.get("name") if isinstance(entry, dict) else None
    if isinstance(name, str) and name:
        return f"source {name!r}"
    provider = entry.get("provider") if isinstance(entry, dict) else None
    kind = f", provider {provider!r}" if isinstance(provider, str) else ""
    return f"source #{index + 1} (sources[{index}]{kind})"


def describe(error: Any, key: str, *, known_keys: Sequence[str], in_source: bool,
             providers: Sequence[str]) -> str:
    """What is wrong with one value (a pydantic error), quoting it; never pydantic's own
    wording. `known_keys`: the table's keys, for a suggestion; `in_source`: in [[sources]]."""
    kind: str = error["type"]
    value = error.get("input")
    ctx: dict[str, Any] = error.get("ctx") or {}
    shown = show(value)
    unit = " s" if key in SECONDS_KEYS else ""
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(key, list(known_keys), n=1)
        return "unknown key" + (f"; did you mean {close[0]!r}?" if close else "")
    if kind == "missing":
        return "missing: every source needs one" if in_source else "missing"
    if kind == "literal_error" and key == "provider":
        message = f"{shown} is not a provider ({', '.join(providers)})"
        near = _close_provider(value, providers)
        return message + (f"; did you mean {near!r}?" if near else "")
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        close = difflib.get_close_matches(str(value), _quoted(expected), n=1)
        return (f"{shown} is not one of {expected}"
                + (f"; did you mean {close[0]!r}?" if close else ""))
    if kind == "value_error":
        return f"{shown} {ctx.get('error', '')}".rstrip()
    if kind == "greater_than_equal":
        limit = _number(ctx["ge"])
        return f"{shown} is below the " + (f"{limit} s minimum" if unit else f"minimum of {limit}")
    if kind == "greater_than":
        return f"{shown} is too small: it must be more than {_number(ctx['gt'])}{unit}"
    if kind == "less_than_equal":
        limit = _number(ctx["le"])
        return f"{shown} is above the " + (f"{limit} s maximum" if unit else f"maximum of {limit}")
    if kind == "string_too_short":
        return f"{shown} is empty"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"{shown} is not a number" + (" of seconds" if unit else "")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{shown} is not a whole number"
    if kind in ("bool_type", "bool_parsing"):
        return f"{shown} is not true or false"
    if kind == "string_type":
        return f"{shown} is not a string (put it in quotes)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{shown} is not a table"
    if kind == "list_type":
        return f"{shown} is not a list of tables (write each entry as [[{key}]])"
    # A kind not foreseen above: still the value, and no pydantic phrasing.
    return f"{shown} is not accepted here ({kind.replace('_', ' ')})"


def _quoted(expected: str) -> list[str]:
    """The choices of a Literal as pydantic lists them: "'toast', 'bell' or 'off'"."""
    return [part.strip(" '") for part in expected.replace(" or ", ", ").split(",") if part]


def _close_provider(value: object, providers: Sequence[str]) -> str | None:
    if not isinstance(value, str):
        return None
    for provider in providers:
        if provider == value.strip().lower():
            return provider
    close = difflib.get_close_matches(value.lower(), list(providers), n=1)
    return close[0] if close else None


def show(value: object) -> str:
    """A value as it would be written in TOML, for quoting it in a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _number(value: float) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return repr(value)
