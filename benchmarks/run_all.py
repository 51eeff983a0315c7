"""Run every benchmark and print their figures as one table (`make bench`). Not part of
`make test`: budgets belong here, not in timed assertions.

Each benchmark runs in its own process (and stays runnable alone, `--help`); its progress
goes to stderr as it runs, and the table, every figure beside its same-run baseline and its
DESIGN section 10 budget, is printed at the end.

    .venv/bin/python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from _harness import HEADER

HERE = Path(__file__).parent
BENCHES: list[tuple[str, list[str], list[str]]] = [  # (script, args, --quick args)
    ("bench_startup.py", ["--samples", "5"], ["--samples", "3"]),
    ("bench_poll.py", ["--samples", "9"], ["--samples", "5"]),
    ("bench_sanitize.py", ["--repeat", "7"], ["--repeat", "3"]),
    ("bench_terminal.py", ["--window", "60"], ["--window", "15"]),
    ("bench_soak.py", ["--polls", "10000"], ["--polls", "1000"]),
    # Through the dashboard each poll costs a screen update too (10,000 take 6 minutes). Its
    # caches fill up to their bounds by ~1,000 polls and RSS is flat from 2,000 to 10,000
    # (+3.1 % at 10,000, 2026-12-04): 2,000 polls show that level, 500 showed half of it.
    ("bench_soak.py", ["--polls", "2000", "--tui"], ["--polls", "200", "--tui"]),
    ("bench_history.py", [], ["--quick"]),
    # The hub: `runwatch serve` with up to 10 viewers' kiosks; three 60 s request windows.
    ("bench_hub.py", [], ["--quick"]),
]


def other_runwatches() -> list[int]:
    """runwatch processes running before the benchmarks start (a dashboard left behind by a
    crashed harness read its closed terminal at ~50 % of a core): they skew every figure."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # `runwatch ...`, `python .venv/bin/runwatch ...` and `python -m runwatch ...`
        if any(part.endswith(b"/runwatch") or part == b"runwatch" for part in argv[:3]):
            found.append(int(entry.name))
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer samples, shorter windows, 1,000 soak polls (a smoke run)")
    quick = parser.parse_args().quick
    started = time.perf_counter()
    strays = other_runwatches()
    if strays:
        print(f"runwatch processes already running (pids {', '.join(map(str, strays))}): "
              "they skew every figure", file=sys.stderr, flush=True)
    rows: list[str] = []
    failed = 0
    env = {**os.environ, "RUNWATCH_BENCH_TABLE": "1"}
    for bench, full, short in BENCHES:
        print(f"== {bench}", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, str(HERE / bench), *(short if quick else full)],
                              cwd=HERE, env=env, stdout=subprocess.PIPE, text=True, check=False)
        rows += [line for line in done.stdout.splitlines() if line.startswith("|")]
        failed |= done.returncode
    load = os.getloadavg()
    print(f"\nrunwatch benchmarks: Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load {load[0]:.1f} {load[1]:.1f}; `runwatch sim` in another process; .pyc warm; "
          f"{time.perf_counter() - started:.0f} s{' (--quick)' if quick else ''}"
          f"{f'; {len(strays)} other runwatch process(es) running' if strays else ''}\n")
    print(HEADER)
    print("\n".join(rows))
    over = sum(1 for line in rows if line.rstrip().endswith("| OVER |"))
    print(f"\n{over} figure(s) OVER budget")
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
