"""`make test` on a fresh machine: the suite's one system dependency (Debian's chromium, for
the browser kiosk test) is installed when the user can, and asked for in one line otherwise."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "need-chromium"


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH holding only what each test puts there: chromium is hidden."""
    path = tmp_path / "bin"
    path.mkdir()
    (path / "env").symlink_to("/usr/bin/env")
    return path


def _run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)], env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True, text=True, timeout=30, check=False,
    )


def test_present_chromium_needs_nothing(bin_dir: Path) -> None:
    _fake(bin_dir, "chromium", "exit 0")
    result = _run(bin_dir)
    assert (result.returncode, result.stderr) == (0, "")


def test_without_root_or_sudo_it_stops_with_the_command_to_run(bin_dir: Path) -> None:
    _fake(bin_dir, "id", "echo 1000")
    result = _run(bin_dir)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "make test needs chromium for the browser kiosk test; run: sudo apt-get install chromium"
    ]


def test_without_passwordless_sudo_it_stops_too(bin_dir: Path) -> None:
    _fake(bin_dir, "id", "echo 1000")
    _fake(bin_dir, "sudo", "exit 1")  # sudo -n true fails: a password would be asked
    result = _run(bin_dir)
    assert result.returncode == 2
    assert "run: sudo apt-get install chromium" in result.stderr


def test_as_root_it_installs_chromium(bin_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "apt-calls"
    _fake(bin_dir, "id", "echo 0")
    _fake(bin_dir, "apt-get", f'echo "$@" >> {calls}\n'
          f'if [ "$1" = install ]; then printf "#!/bin/bash\\n" > {bin_dir}/chromium; '
          f"/bin/chmod +x {bin_dir}/chromium; fi")
    result = _run(bin_dir)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]
    assert "installing Debian's chromium" in result.stderr
