"""A dashboard whose terminal hangs up exits, even when no SIGHUP reaches it (`make run`:
make leads the terminal's session and takes the signal; a terminal of another session never
sends one; without the check runwatch went on reading a dead terminal at 50-95 % of a core)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _dashboard_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("NO_COLOR", None)
    return env


def _wait_for_its_sources(master: int) -> None:
    """Until the demo on the terminal's other end has drawn its sources."""
    seen = b""
    deadline = time.monotonic() + 30
    while b"scheduler" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            seen += os.read(master, 65536)
    assert b"scheduler" in seen, "the dashboard never drew its sources"


def test_a_dashboard_whose_terminal_hangs_up_exits(tmp_path: Path) -> None:
    env = _dashboard_env(tmp_path)
    # `make run` is how the README starts it: make leads the terminal's session.
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t{sys.executable} -m runwatch demo\n")
    leader, master = pty.fork()
    if leader == 0:
        os.execvpe("make", ["make", "-s", "-f", str(makefile), "run"], env)
    _wait_for_its_sources(master)
    [dashboard] = _children(leader)

    os.close(master)  # the terminal window closes: the tty hangs up; make takes the SIGHUP
    gone_by = time.monotonic() + 15
    while _alive(dashboard) and time.monotonic() < gone_by:
        time.sleep(0.2)
    still_alive = _alive(dashboard)
    if still_alive:
        os.kill(dashboard, 9)  # what a person would have to do; make then ends too
    os.waitpid(leader, 0)
    assert not still_alive, "the dashboard outlived its terminal"


def test_a_dashboard_on_a_terminal_of_another_session_exits_when_it_closes(
    tmp_path: Path,
) -> None:
    """Started in a session of its own (`setsid`, a program that spawns it so) the terminal
    is not its controlling terminal and no SIGHUP ever comes: closing the terminal's other
    end must end it all the same, not leave Textual's input thread reading nothing."""
    env = _dashboard_env(tmp_path)
    master, slave = pty.openpty()
    dashboard = subprocess.Popen([sys.executable, "-m", "runwatch", "demo"], stdin=slave,
                                 stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        _wait_for_its_sources(master)
        os.close(master)  # the terminal's other end goes: nobody is told
        code = dashboard.wait(timeout=15)
    finally:
        if dashboard.poll() is None:
            dashboard.kill()
            dashboard.wait()
    assert code == 129  # as after a hang-up: 128 + SIGHUP
