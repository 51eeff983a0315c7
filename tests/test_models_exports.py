"""The public names of the packages that load each name's module on first use
(runwatch.lazy_exports: runwatch.models, runwatch.history): `__all__` is derived from where
each name lives, so the three lists it once held cannot drift apart."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

import runwatch.history as history
import runwatch.models as models

PACKAGES = [pytest.param(models, 20, id="models"), pytest.param(history, 8, id="history")]


@pytest.mark.parametrize(("package", "more_than"), PACKAGES)
def test_every_public_name_imports_from_the_package_as_its_module_defines_it(
    package: ModuleType, more_than: int
) -> None:
    assert package.__all__ == sorted(package.__all__) and len(package.__all__) > more_than
    for name in package.__all__:
        home = importlib.import_module(f"{package.__name__}.{package._HOME[name]}")
        assert getattr(package, name) is getattr(home, name), name
    assert sorted(dir(package)) == package.__all__


@pytest.mark.parametrize("package", [models, history], ids=["models", "history"])
def test_what_mypy_reads_names_the_same_as_what_runs(package: ModuleType) -> None:
    """The TYPE_CHECKING block (mypy's re-exports) says each name once, from its home."""
    tree = ast.parse(Path(package.__file__ or "").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If))
    said = {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names if alias.asname == alias.name}
    assert said == {name: f"{package.__name__}.{home}" for name, home in package._HOME.items()}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = history.Nothing  # type: ignore[attr-defined]
