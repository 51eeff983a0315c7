"""`runwatch list` drops its columns in the dashboard's order without loading the dashboard:
the column table is runwatch.columns, which both read."""

from __future__ import annotations

import subprocess
import sys


def test_list_fits_its_columns_without_importing_the_tui() -> None:
    code = ("import sys; from runwatch.cli import listing; listing.priority('title'); "
            "print(sorted(m for m in sys.modules if m.startswith('runwatch.tui')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
