"""What the sanitizer costs (issue 8): `clean_text` runs on every string of every run of every
poll that maps a changed body, so its cost per string is a poll's cost times thousands.

Two figures, each the best of several repeats of 10,000 strings, beside a baseline timed in
the same run: a clean string (a commit title) against `str.isprintable` of it, the least any
check can cost; a hostile one (an OSC title and a CSI clear in it) against one `re.sub` of a
naive escape-sequence pattern over it. Budgets (from the timed test this replaced): under
5 µs a clean string, under 50 µs a hostile one.

    .venv/bin/python benchmarks/bench_sanitize.py [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import timeit
from collections.abc import Callable

from _harness import header, row

from runwatch.sanitize import clean_text

STRINGS = 10_000
CLEAN_BUDGET_S = 5e-6
DIRTY_BUDGET_S = 50e-6
NAIVE = re.compile(r"\x1b\][^\x07]*\x07|\x1b\[[0-9;]*[A-Za-z]")


def per_string(work: Callable[[str], object], strings: list[str], repeat: int) -> float:
    """Seconds per string of `work`, the best of `repeat` passes over `strings`."""
    def one_pass() -> None:
        for s in strings:
            work(s)

    return min(timeit.repeat(one_pass, number=1, repeat=repeat)) / len(strings)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="passes of 10,000 strings each")
    repeat = parser.parse_args().repeat
    clean = [f"feat: add feature {i} to the dashboard" for i in range(STRINGS)]
    dirty = [f"fix {i}\x1b]0;t\x07\x1b[2J ok" for i in range(STRINGS)]
    # What is timed is the real work: a clean string comes back as it is, a hostile one
    # without its escapes.
    assert clean_text(clean[7]) == clean[7] and clean_text(dirty[7]) == "fix 7 ok"
    header()
    for figure, strings, baseline_name, baseline, budget in (
            ("`clean_text`, a clean string", clean, "`str.isprintable`", str.isprintable,
             CLEAN_BUDGET_S),
            ("`clean_text`, a hostile string (OSC title, CSI clear)", dirty,
             "one naive `re.sub`", lambda s: NAIVE.sub("", s), DIRTY_BUDGET_S)):
        value = per_string(clean_text, strings, repeat)
        base = per_string(baseline, strings, repeat)
        row(figure, us(value), f"{baseline_name} {us(base)}", f"{value / base:.1f}x",
            f"< {us(budget).replace('.00', '')}", value < budget)


if __name__ == "__main__":
    main()
