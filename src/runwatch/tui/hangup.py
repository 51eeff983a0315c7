"""Exit when the terminal hangs up.

A dashboard whose terminal went away (its window closed, an SSH link dropped under a wrapper
such as `make run`) does not always get SIGHUP: the kernel sends it to the session leader,
and once that has gone the tty is hung up with nobody to tell. Textual's input thread then
reads a dead terminal in a loop (60–95 % of a core, for ever). The controlling terminal's
foreground process group stops being readable at that moment, which is cheap to check.
"""

from __future__ import annotations

import os
import sys

__all__ = ["CHECK_EVERY_S", "terminal_fd", "terminal_gone"]

CHECK_EVERY_S = 2.0


def terminal_fd() -> int | None:
    """The file descriptor of the controlling terminal the app draws on, if it has one
    (a test's headless app, or a pipe, has none)."""
    for stream in (sys.__stdin__, sys.__stdout__):
        try:
            fd = stream.fileno() if stream is not None else -1
        except (AttributeError, ValueError, OSError):
            continue
        if fd >= 0 and os.isatty(fd) and not terminal_gone(fd):
            return fd
    return None


def terminal_gone(fd: int) -> bool:
    """Whether `fd` is no longer this process's controlling terminal (it hung up)."""
    try:
        os.tcgetpgrp(fd)
    except OSError:
        return True
    return False
