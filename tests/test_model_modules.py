"""Modules that define pydantic models evaluate their annotations when the class is built
(no `from __future__ import annotations`): with strings, pydantic compiles and evaluates
every field's annotation again, ~40 % of building the classes (currents' wire models: 8.4
-> 4.8 ms), which `list` and the dashboard pay at every start."""

from __future__ import annotations
import __future__

import importlib
import inspect
import pkgutil
from types import ModuleType

from pydantic import BaseModel

import runwatch


def _modules() -> list[ModuleType]:
    names = [info.name for info in pkgutil.walk_packages(runwatch.__path__, "runwatch.")
             if not info.name.endswith("__main__")]  # that one runs the command line
    return [importlib.import_module(name) for name in names]


def _defines_a_model(module: ModuleType) -> bool:
    return any(inspect.isclass(value) and issubclass(value, BaseModel)
               and value.__module__ == module.__name__ for value in vars(module).values())


def test_model_modules_build_their_annotations_as_objects() -> None:
    modules = [m for m in _modules() if _defines_a_model(m)]
    assert {"runwatch.models.run", "runwatch.config", "runwatch.providers.currents.wire"} <= {
        m.__name__ for m in modules}
    stringified = [m.__name__ for m in modules
                   if getattr(m, "annotations", None) is __future__.annotations]
    assert stringified == []
