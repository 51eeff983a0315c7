"""Exit when the terminal hangs up.

A dashboard whose terminal went away (its window closed, an SSH link dropped under a wrapper
such as `make run`) does not always get SIGHUP: the kernel sends it to the session leader,
and once that has gone the tty is hung up with nobody to tell. A terminal that is not the
process's controlling terminal at all (started by `setsid`, or by a program that spawns it
in a session of its own, as the benchmarks do) never gets one. Textual's input thread then
reads a dead terminal in a loop (50–95 % of a core, for ever). Either way the terminal
reports a hang-up to poll(2), which is cheap to ask.
"""

from __future__ import annotations

import os
import select
import sys

__all__ = ["CHECK_EVERY_S", "terminal_fd", "terminal_gone"]

CHECK_EVERY_S = 2.0


def terminal_fd() -> int | None:
    """The file descriptor of the terminal the app draws on, if it has one (a test's
    headless app, or a pipe, has none); its controlling terminal or not."""
    for stream in (sys.__stdin__, sys.__stdout__):
        try:
            fd = stream.fileno() if stream is not None else -1
        except (AttributeError, ValueError, OSError):
            continue
        if fd >= 0 and os.isatty(fd) and not terminal_gone(fd):
            return fd
    return None


_HUNG_UP = select.POLLHUP | select.POLLERR | select.POLLNVAL


def terminal_gone(fd: int) -> bool:
    """Whether the terminal on `fd` hung up: a hung-up tty, and a pseudo-terminal whose other
    end was closed, both say POLLHUP (a read then returns nothing, at once, for ever)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    try:
        events = poller.poll(0)
    except OSError:
        return True
    return any(mask & _HUNG_UP for _, mask in events)
