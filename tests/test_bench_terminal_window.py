"""bench_terminal's window: the bytes it counts and the bytes it searches for turnovers are
the same bytes, so the bytes-per-turnover figure is true."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

from _harness import PtyApp
from bench_terminal import Window

# Writes without pause, before, during and after the window.
WRITER = "import sys, time\nwhile True:\n    sys.stdout.write('tick\\n'); sys.stdout.flush()\n" \
         "    time.sleep(0.001)\n"


def test_the_captured_output_is_exactly_what_the_window_counted() -> None:
    app = PtyApp([sys.executable, "-c", WRITER])
    try:
        app.wait_for([b"tick"])
        window = Window({"writer": app}, {}, capture="writer")
        time.sleep(0.3)  # the window's length: bytes keep coming all through it
        _, _, written, _, captured = window.close()
        assert written["writer"] > 0
        assert len(captured) == written["writer"]
        assert captured.count(b"tick") >= 1
    finally:
        app.proc.kill()
        app.proc.wait()
        app.stop()
