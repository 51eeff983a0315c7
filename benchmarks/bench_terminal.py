"""The real app in a pseudo-terminal (160x45), polling every 5 s the installed `runwatch sim`
in another process (one simulator per app, so each app's requests are its own):

- idle CPU, live world (the simulator's clock running: active runs progress, new runs
  appear), the runs screen and the kiosk, beside a minimal Textual app (a 100-row DataTable)
  idling in the same window (budget: under 1% of one core);
- bytes written per minute and per poll, live and settled (budget for a settled poll on the
  runs screen: 0 bytes; the kiosk pages through its sources, so it writes by design).
  Settled is the simulator's `POST /_sim/settle`: its clock moves on until every run has
  finished, and the runs that would be dated after this machine's clock are deleted (none
  counts down "in 3m"). Before the settled window the bench waits three intervals (every
  source has seen its runs finish) and then out the longest toast (TOAST_S): a toast
  raised as the world settled (a run that failed) would expire inside the window and
  count as written by an unchanged poll. Everything written in the window counts in the
  per-minute figures; the settled per-poll figure leaves out the "N m ago" cells turning
  over (the clock's doing, not a poll's: each is one cell written, `AGO` below, and their
  count and bytes are printed beside it);
- polls counted from the simulator's request log (services makes one request a poll), not
  from the interval.

    .venv/bin/python benchmarks/bench_terminal.py [--window 30]
"""

from __future__ import annotations

import argparse
import re
import time

from _harness import (
    BIN,
    MINIMAL_NEEDLE,
    PtyApp,
    SimProcess,
    header,
    minimal_app_argv,
    newest_ids,
    note,
    row,
    write_config,
)

INTERVAL = 5.0
# A time cell turning over on its own: the cursor moved to it, "N m ago" written (with its
# colours), and the cursor put back where Textual keeps it.
AGO = re.compile(rb"\x1b\[\d+;\d+H(?:\x1b\[[\d;]*m)* (?:<1m|\d+[mhd]) ago *(?:\x1b\[[\d;]*m)*"
                 rb"(?:\x1b\[\d+;\d+H|\r\n)?")
TOAST_S = 10.0  # the longest toast the runs screen raises (a failed run: runwatch.tui.app)


class Watched:
    """One runwatch on its own simulator."""

    def __init__(self, kiosk: bool) -> None:
        self.kiosk = kiosk  # pages through the sources: it writes by design, even settled
        self.name = "kiosk" if kiosk else "runs screen"
        self.sim = SimProcess()
        self.app: PtyApp | None = None
        try:
            config, env = write_config(self.sim, interval=INTERVAL)
            needles = list(newest_ids(self.sim).values())
            self.app = PtyApp([str(BIN / "runwatch"), "--config", str(config),
                               *(["--kiosk"] if kiosk else [])], env)
            # The kiosk shows one source at a time (it pages through them): wait for the first.
            self.app.wait_for(needles[:1] if kiosk else needles)
        except BaseException:
            self.stop()
            raise

    @property
    def pty(self) -> PtyApp:
        assert self.app is not None
        return self.app

    def stop(self) -> None:
        if self.app is not None:
            self.app.stop()
        self.sim.stop()


class Window:
    """CPU, bytes and polls of each process over one stretch of time, and what the app named
    `capture` wrote over it: its bytes are counted and kept under one lock, so what is
    counted in the output (turnovers) is of the same bytes as the count."""

    def __init__(self, apps: dict[str, PtyApp], sims: dict[str, SimProcess],
                 capture: str | None = None) -> None:
        self.apps, self.sims, self.capture = apps, sims, capture
        self.bytes: dict[str, int] = {}
        for name, app in apps.items():
            with app._lock:
                app.keep_output = name == capture
                app.output.clear()
                self.bytes[name] = app.bytes
        self.cpu = {n: a.cpu_s() for n, a in apps.items()}
        self.requests = {n: s.request_count() for n, s in sims.items()}
        self.started = time.monotonic()

    def close(self) -> tuple[float, dict[str, float], dict[str, int], dict[str, int], bytes]:
        """Seconds, CPU % per app, bytes per app, polls per app, what `capture` wrote."""
        seconds = time.monotonic() - self.started
        cpu = {n: 100.0 * (a.cpu_s() - self.cpu[n]) / seconds for n, a in self.apps.items()}
        written: dict[str, int] = {}
        captured = b""
        for name, app in self.apps.items():
            with app._lock:
                written[name] = app.bytes - self.bytes[name]
                if name == self.capture:
                    captured = bytes(app.output)
                    app.keep_output = False
        polls = {n: sum(1 for r in s.requests_since(self.requests[n])
                        if r["provider"] == "services") for n, s in self.sims.items()}
        return seconds, cpu, written, polls, captured


def measure(window_s: float) -> None:
    watched: list[Watched] = []
    minimal = PtyApp(minimal_app_argv())
    try:
        watched += [Watched(kiosk=False)]
        watched += [Watched(kiosk=True)]
        minimal.wait_for([MINIMAL_NEEDLE])
        time.sleep(2 * INTERVAL)  # every source polled again: start-up work is over
        for world in ("live", "settled"):
            if world == "settled":
                for w in watched:
                    w.sim.control("POST", "/settle", {})
                time.sleep(3 * INTERVAL)  # every source has seen its runs finish
                time.sleep(TOAST_S + 1.0)  # and the toasts that raised are gone
            note(f"bench_terminal: {world} world, {window_s:g} s window")
            window = Window({"minimal": minimal, **{w.name: w.pty for w in watched}},
                            {w.name: w.sim for w in watched}, capture=watched[0].name)
            time.sleep(window_s)
            seconds, cpu, written, polls, captured = window.close()
            turnovers = AGO.findall(captured)
            per_min = 60.0 / seconds
            for w in watched:
                if world == "live":
                    row(f"idle CPU at 5 s, live world, {w.name}", f"{cpu[w.name]:.2f} %",
                        f"minimal Textual app {cpu['minimal']:.2f} %", "", "< 1 %",
                        cpu[w.name] < 1.0)
                else:
                    row(f"idle CPU at 5 s, settled world, {w.name} (no budget)",
                        f"{cpu[w.name]:.2f} %", f"minimal Textual app {cpu['minimal']:.2f} %")
                row(f"bytes written per minute, {world} world, {w.name}",
                    f"{written[w.name] * per_min:,.0f}",
                    f"minimal Textual app {written['minimal'] * per_min:,.0f}")
                per_poll = written[w.name] / max(polls[w.name], 1)
                if world == "settled" and not w.kiosk:
                    # All it wrote over the window but its time cells turning over, per
                    # poll: what a poll that changed nothing wrote.
                    ago = sum(len(t) for t in turnovers)
                    rest = written[w.name] - ago
                    row(f"bytes written per poll, settled world, {w.name} "
                        f"({polls[w.name]} polls; not counted: {len(turnovers)} 'N m ago' "
                        f"cells turning over, {ago:,} B)",
                        f"{rest / max(polls[w.name], 1):,.0f}", "", "", "0", rest == 0)
                else:
                    row(f"bytes written per poll, {world} world, {w.name} "
                        f"({polls[w.name]} polls, no budget)", f"{per_poll:,.0f}")
    finally:
        minimal.stop()
        for w in watched:
            w.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=30.0, help="seconds per window")
    args = parser.parse_args()
    header()
    measure(args.window)


if __name__ == "__main__":
    main()
