"""Run every benchmark and print its figures (`make bench`). Not part of `make test`:
budgets belong here, not in timed assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = ["bench_poll_cpu.py", "bench_terminal.py", "bench_soak.py"]


def main() -> int:
    failed = 0
    for bench in BENCHES:
        print(f"\n== {bench}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / bench), *sys.argv[1:2]], cwd=HERE)
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
