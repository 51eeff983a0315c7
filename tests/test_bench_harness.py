"""The benchmarks' `.pyc` warm step (benchmarks/_harness.py): a program run once with bytecode
writing on compiles exactly what it imports, and the check names every imported module left
without a fresh .pyc, so the "`.pyc` warm" line of bench_startup is true or says it is not."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def harness():
    # The harness drops PYTHONDONTWRITEBYTECODE from its process on import: not from ours.
    saved = os.environ.get("PYTHONDONTWRITEBYTECODE")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import _harness
    finally:
        sys.path.remove(str(BENCHMARKS))
        if saved is not None:
            os.environ["PYTHONDONTWRITEBYTECODE"] = saved
    return _harness


def program(tmp_path: Path, body: str) -> Path:
    (tmp_path / "used.py").write_text("VALUE = 1\n")
    (tmp_path / "unused.py").write_text("VALUE = 2\n")
    script = tmp_path / "prog.py"
    script.write_text(body)
    return script


def run(harness, script: Path, dump: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(harness.listing_imports([sys.executable, str(script)], dump), env=env,
                   check=True, timeout=60)


def cached(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def test_one_run_compiles_what_the_program_imports_and_only_that(harness, tmp_path):
    script = program(tmp_path, "import json, used\nassert used.VALUE == 1\n")
    dump = tmp_path / "prog.json"
    run(harness, script, dump)

    modules, stale = harness.stale_imports([dump])
    assert str(tmp_path / "used.py") in modules and json_module() in modules
    assert stale == []
    assert cached(tmp_path / "used.py").exists()
    assert not cached(tmp_path / "unused.py").exists()  # not imported: not compiled


def test_an_imported_module_whose_pyc_is_stale_is_named(harness, tmp_path):
    script = program(tmp_path, "import used\n")
    dump = tmp_path / "prog.json"
    run(harness, script, dump)
    (tmp_path / "used.py").write_text("VALUE = 10\n")  # changed since: its .pyc no longer fits

    _, stale = harness.stale_imports([dump])
    assert stale == [str(tmp_path / "used.py")]


def test_a_program_that_leaves_no_module_list_is_not_called_warm(harness, tmp_path):
    script = program(tmp_path, "import os, used\nos._exit(0)\n")  # no atexit: no list
    dump = tmp_path / "prog.json"
    run(harness, script, dump)

    _, stale = harness.stale_imports([dump])
    assert stale == ["prog: no module list (it did not exit cleanly)"]


def json_module() -> str:
    import json

    assert json.__file__ is not None
    return json.__file__


def test_make_bench_names_the_runwatch_processes_already_running(tmp_path):
    """A dashboard left behind by a crashed harness read its closed terminal at ~50 % of a
    core and skewed every figure: `make bench` names any runwatch already running."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    stray = tmp_path / "runwatch"
    stray.write_text("#!/bin/sh\nsleep 30\n")
    stray.chmod(0o755)
    process = subprocess.Popen([str(stray)])
    try:
        # Until the child has exec'd, its command line is still this process's.
        deadline = time.monotonic() + 10
        while process.pid not in run_all.other_runwatches() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.pid in run_all.other_runwatches()
    finally:
        process.kill()
        process.wait()
    assert process.pid not in run_all.other_runwatches()
