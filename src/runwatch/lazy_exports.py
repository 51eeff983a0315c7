"""A package whose public names each load their own module on first use (PEP 562): what
imports the package pays only for the modules of the names it reads (runwatch.models,
runwatch.history)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: Mapping[str, str]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """`package`'s module-level `__getattr__` and `__dir__`: each name of `homes` (name ->
    submodule) is imported from `package.submodule` when first read, then kept as a plain
    global of the package."""
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        namespace[name] = value  # the next lookup is a plain global, not this function
        return value

    def __dir__() -> list[str]:
        return sorted(homes)

    return __getattr__, __dir__
