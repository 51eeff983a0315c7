"""The package metadata people see (issue 14): a PEP 639 licence expression with its file,
project URLs and classifiers, and a README whose relative links are said to be relative."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_licence_is_a_pep639_expression_with_its_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n") and "runwatch authors" in text
    # PEP 639: a licence expression and a licence classifier together are an error.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_the_metadata_has_urls_and_classifiers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert all(u.startswith("https://") for u in project["urls"].values())
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]


def test_the_readme_shows_the_installs_people_use() -> None:
    readme = (ROOT / "README.md").read_text()
    for line in ("pipx install .", "uv tool install .", "pip install 'runwatch[serve]'",
                 "pipx install dist/runwatch-0.1.0-py3-none-any.whl"):
        assert line in readme
    assert "relative to the\nsource tree" in readme
