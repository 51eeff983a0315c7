"""The dashboard in plain terminals (SSH, tmux, old consoles): `--ascii` (and its automatic
choice from the locale), `NO_COLOR` with not one colour code written, 16 colours; the real app
under a pseudo-terminal, and snapshots at 80x24."""

from __future__ import annotations

import contextlib
import html
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fcntl import ioctl
from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.pilot import Pilot

from runwatch.ascii_fallback import ASCII_FALLBACK
from runwatch.cli import main
from runwatch.demo import demo_config
from runwatch.models import RunStatus
from runwatch.tui import app as app_module
from runwatch.tui.app import RunwatchApp
from runwatch.tui.look import ASCII, UNICODE, progress_bar, spinner_frame
from runwatch.tui.screens.run import RunScreen
from runwatch.tui.terminal import AsciiOnly, NoColour, locale_is_utf8, wants_ascii
from tui_helpers import all_polled, make_app, until


async def loaded(pilot: Pilot) -> None:
    await all_polled(pilot, pause=0.1)

def screen_text(app: RunwatchApp) -> str:
    """What the screen shows, as text (from the SVG screenshot, filters applied)."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    pattern = r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>'
    for x, y, text in re.findall(pattern, svg):
        rows.setdefault(float(y), []).append((float(x), html.unescape(text)))
    return "\n".join("".join(t for _, t in sorted(rows[y])).replace("\xa0", " ")
                     for y in sorted(rows))


# -- the glyph tables and the locale -------------------------------------------------------


def test_ascii_glyphs_are_ascii_and_one_cell_like_unicode() -> None:
    for name in ("spinner", "bar_full", "bar_track", "bar_growing", "axis", "ellipsis", "dash",
                 "cursor", "selected", "warning"):
        value = getattr(ASCII, name)
        assert value.isascii() and value, name
        assert len(value) == 1 or name == "spinner", name
    assert set(ASCII.status) == set(UNICODE.status) == set(RunStatus)
    assert len(set(ASCII.status.values())) == len(RunStatus)  # every status its own glyph
    assert all(g.isascii() and len(g) == 1 for g in ASCII.status.values())
    assert all(v.isascii() and len(v) == 1 for v in ASCII_FALLBACK.values())
    assert progress_bar(68, 5, ASCII) == "###  " and progress_bar(68, 5) == "███▍ "
    assert spinner_frame(2, ASCII) == "-" and spinner_frame(2) == "⠹"


@pytest.mark.parametrize(("environ", "utf8"), [
    ({"LANG": "C.UTF-8"}, True),
    ({"LANG": "en_US.UTF-8"}, True),
    ({"LANG": "de_DE.utf8"}, True),
    ({}, False),  # POSIX
    ({"LANG": "C"}, False),
    ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, False),  # Python's coercion of the C locale
    ({"LC_CTYPE": "C.UTF-8"}, False),  # ... of no locale at all
    ({"LANG": "en_US.UTF-8", "LC_CTYPE": "C.UTF-8"}, True),
    ({"LANG": "en_US.ISO-8859-1"}, False),
    ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, False),  # LC_ALL wins
    ({"LANG": "C", "LC_ALL": "en_GB.UTF-8"}, True),
    ({"LANG": "C", "LC_CTYPE": "en_US.UTF-8"}, True),
])
def test_locale_decides_utf8(environ: dict[str, str], utf8: bool) -> None:
    assert locale_is_utf8(environ) is utf8
    assert wants_ascii(environ) is not utf8


def test_a_browser_always_gets_unicode() -> None:
    web = {"LANG": "C", "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver"}
    assert wants_ascii(web) is False


def test_run_dashboard_picks_ascii_from_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class FakeApp:
        return_code = 0

        def __init__(self, config: object, **options: Any) -> None:
            made.append(options)

        def run(self) -> None:
            pass

    monkeypatch.setattr(app_module, "RunwatchApp", FakeApp)
    monkeypatch.setattr("locale.getpreferredencoding", lambda do_setlocale=True: "UTF-8")
    for name in ("LC_ALL", "LC_CTYPE", "TEXTUAL_DRIVER"):
        monkeypatch.delenv(name, raising=False)
    config = demo_config("http://127.0.0.1:9")
    monkeypatch.setenv("LANG", "C")
    app_module.run_dashboard(config)
    app_module.run_dashboard(config, ascii=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    app_module.run_dashboard(config)
    app_module.run_dashboard(config, ascii=True)
    assert [m["ascii"] for m in made] == [True, False, False, True]


def test_ascii_is_a_global_option_passed_to_the_dashboard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []

    def run_dashboard(config: object, **options: Any) -> int:
        calls.append(options)
        return 0

    monkeypatch.setattr(app_module, "run_dashboard", run_dashboard)
    assert main(["demo", "--ascii"]) == 0
    assert main(["--ascii", "demo", "--kiosk"]) == 0
    assert main(["demo", "--no-ascii"]) == 0
    assert main(["demo"]) == 0
    assert [c["ascii"] for c in calls] == [True, True, False, None]
    assert calls[1]["kiosk"] is True


# -- the line filters ----------------------------------------------------------------------


def test_ascii_filter_keeps_widths_and_styles() -> None:
    style = Style(bold=True, color="red")
    out = AsciiOnly().apply([Segment("✓ passed │ ╭─╮ 日本 …", style), Segment("plain")],
                            Color(0, 0, 0))
    assert [s.text for s in out] == ["+ passed | +-+ ???? ~", "plain"]
    assert out[0].style == style


def test_no_colour_filter_drops_colours_and_keeps_the_rest() -> None:
    style = Style(bold=True, reverse=True, color="#ff0000", bgcolor="blue",
                  meta={"offset": (1, 2)})
    (out,) = NoColour().apply([Segment("x", style)], Color(0, 0, 0))
    assert out.style is not None
    assert out.style.color is None and out.style.bgcolor is None
    assert out.style.bold and out.style.reverse and out.style.meta == {"offset": (1, 2)}


async def test_ascii_app_draws_only_ascii(sim) -> None:
    app = make_app(sim, ascii=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert re.search(r"x \d+ failed", text) and "+ passed" in text  # glyphs, words
        assert "~" in text  # the ellipsis
        assert text.isascii(), [c for c in text if not c.isascii()]
    unicode = make_app(sim)
    async with unicode.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert "✓ passed" in screen_text(unicode)


async def test_no_color_turns_the_cursor_to_reverse_video(
    sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert any(isinstance(f, NoColour) for f in app.get_line_filters())
        assert app.theme_variables["block-cursor-text-style"] == "reverse bold"
        table = app.runs_screen.table
        assert table.get_component_styles("datatable--cursor").text_style.reverse


# -- the real app in a pseudo-terminal ----------------------------------------------------

# SGR parameters that set a colour: 30-39 and 90-97 foreground, 40-49 and 100-107 background
# (38 and 48 start 256-colour and RGB ones; 39 and 49 reset to the terminal's own).
COLOUR_PARAMS = frozenset({*range(30, 50), *range(90, 98), *range(100, 108)})
SGR = re.compile(rb"\x1b\[([0-9;:]*)m")


def colour_codes(output: bytes) -> list[bytes]:
    """The SGR sequences in `output` that set a colour."""
    found = []
    for match in SGR.finditer(output):
        params = [p for p in re.split(rb"[;:]", match.group(1)) if p]
        if any(int(p) in COLOUR_PARAMS for p in params):
            found.append(match.group(0))
    return found


@dataclass
class Terminal:
    """One run of `runwatch demo --kiosk` in a pseudo-terminal: what it wrote, what it left."""

    output: bytes
    home: Path


def _spawn(env: dict[str, str], root: Path) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    home = root / "home"
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8",
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local/state"), "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"), "PYTHONDONTWRITEBYTECODE": "1",
    }
    home.mkdir(parents=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "runwatch", "demo", "--kiosk"], stdin=slave, stdout=slave,
        stderr=slave, env={**base, **env}, cwd=home, start_new_session=True,
    )
    os.close(slave)
    return process, master


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def terminals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Terminal]]:
    """The kiosk three times at once, for a few seconds each: with NO_COLOR, with colour (the
    control), and in the C locale (so ASCII by itself)."""
    envs = {"no_color": {"NO_COLOR": "1"}, "colour": {}, "c_locale": {"LANG": "C"}}
    runs: dict[str, tuple[subprocess.Popen[bytes], int, Path]] = {}
    outputs = {name: b"" for name in envs}
    try:
        for name, env in envs.items():
            root = tmp_path_factory.mktemp(name)
            process, master = _spawn(env, root)
            runs[name] = (process, master, root / "home")
        deadline = time.monotonic() + 15
        settled: float | None = None
        while time.monotonic() < deadline:
            masters = {master: name for name, (_, master, _) in runs.items()}
            ready, _, _ = select.select(list(masters), [], [], 0.1)
            for master in ready:
                with contextlib.suppress(OSError):  # OSError: the process is gone
                    outputs[masters[master]] += os.read(master, 65536)
            if settled is None and all(b"passed" in out for out in outputs.values()):
                settled = time.monotonic()  # runs on screen: one more tick of the clock
            if settled is not None and time.monotonic() - settled > 1.2:
                break
        yield {name: Terminal(outputs[name], home) for name, (_, _, home) in runs.items()}
    finally:
        for process, master, _ in runs.values():
            _stop(process)
            os.close(master)


def test_no_color_writes_no_colour_code_at_all(terminals: dict[str, Terminal]) -> None:
    output = terminals["no_color"].output
    assert colour_codes(output) == []
    for word in (b"failed", b"running", b"passed", b" runs"):
        assert word in output, word  # statuses stay readable as words (and glyphs)
    assert "✗".encode() in output and b"\x1b[" in output  # styled, only not coloured
    # the control: the same kiosk in the same terminal writes colours without NO_COLOR
    assert len(colour_codes(terminals["colour"].output)) > 20


def test_the_c_locale_gets_ascii_only(terminals: dict[str, Terminal]) -> None:
    output = terminals["c_locale"].output
    assert b"passed" in output and b"x failed" in output
    assert output.isascii(), sorted({chr(b) for b in output if b > 127})[:10]
    assert not terminals["colour"].output.isascii()  # the control draws Unicode


def test_the_kiosk_writes_nothing_to_disk(terminals: dict[str, Terminal]) -> None:
    for name, terminal in terminals.items():
        written = [p.relative_to(terminal.home) for p in terminal.home.rglob("*")]
        assert written == [], (name, written)
        assert b" runs" in terminal.output, name  # it did run: its source lines are there


# -- snapshots -----------------------------------------------------------------------------


def test_snapshot_runs_ascii_80x24(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        assert screen_text(pilot.app).isascii()  # type: ignore[arg-type]

    assert snap_compare(make_app(sim, ascii=True), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_run_screen_ascii_80x24(sim, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        app: RunwatchApp = pilot.app  # type: ignore[assignment]
        await loaded(pilot)
        runs = sorted(app.poller.runs("wercker").values(), key=lambda r: r.sort_time,
                      reverse=True)
        app.open_run(next(r for r in runs if r.status is RunStatus.FAILED))
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and app.screen.detail is not None, "the run's detail")
        await pilot.pause(0.1)
        assert screen_text(app).isascii()

    assert snap_compare(make_app(sim, ascii=True), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_runs_ansi_80x24(sim, snap_compare) -> None:
    # TERM=xterm: the 16-colour theme, with every action key (read-only has its own snapshot).
    app = make_app(sim, theme="runwatch-ansi")
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)
