"""The models package's public names (runwatch.models): `__all__` is derived from where each
name lives, so the three lists it once held cannot drift apart."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import runwatch.models as models


def test_every_public_name_imports_from_the_package_as_its_module_defines_it() -> None:
    assert models.__all__ == sorted(models.__all__) and len(models.__all__) > 20
    for name in models.__all__:
        home = importlib.import_module(f"runwatch.models.{models._HOME[name]}")
        assert getattr(models, name) is getattr(home, name), name
    assert sorted(dir(models)) == models.__all__


def test_what_mypy_reads_names_the_same_as_what_runs() -> None:
    """The TYPE_CHECKING block (mypy's re-exports) says each name once, from its home."""
    tree = ast.parse(Path(models.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If))
    said = {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names if alias.asname == alias.name}
    assert said == {name: f"runwatch.models.{home}" for name, home in models._HOME.items()}
