"""Where a source's token (or the scheduler's login password) comes from: an env var, the
first output line of a command, or the owner-only config file; resolved in the background.

A command runs as an asyncio subprocess, so a slow password manager never blocks the event
loop, and is killed after `token_timeout`. Every failure is a `TokenError` in words
("token: env CURRENTS_API_KEY is not set", "token_cmd `pass show ci` exited 1: gpg: decryption
failed"), and nothing here ever shows, logs or reprs the secret itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from runwatch.config import SourceConfig
from runwatch.errors import ConfigError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "RERUN_AFTER_S",
    "SecretResolver",
    "TokenError",
    "password_resolver",
    "token_resolver",
]

DEFAULT_TIMEOUT_S = 10.0
# After the server rejects a token, its command runs again at most this often: a password
# manager prompt or a remote vault must not be hit on every poll.
RERUN_AFTER_S = 60.0
# A token is one line: more output than this is not read (a runaway command is killed at
# its timeout instead of filling memory).
MAX_OUTPUT_BYTES = 64 * 1024
STDERR_SHOWN = 120  # characters of a failing command's first stderr line
CMD_SHOWN = 60  # characters of the command line in a message

Secret = Literal["token", "password"]


class TokenError(ConfigError):
    """A source's token (or password) is not available: an unset variable, a command that
    fails, prints nothing or does not finish in time. Exit 3, like the config it comes from;
    the poller retries it slowly."""


@dataclass(eq=False)
class SecretResolver:
    """One source's secret, fetched on first use and kept until the server rejects it.

    Concurrent callers share one run of the command; `pending` says how long it has been
    running, for the source's line. `renew` fetches again after a rejection (a command at
    most once per `rerun_after_s`).
    """

    source: str
    what: Secret = "token"
    env: str | None = None
    cmd: str | None = None
    inline: str | None = field(default=None, repr=False)
    timeout_s: float = DEFAULT_TIMEOUT_S
    rerun_after_s: float = RERUN_AFTER_S
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _value: str | None = field(default=None, init=False, repr=False)
    _running: asyncio.Task[str] | None = field(default=None, init=False, repr=False)
    _started: float | None = field(default=None, init=False, repr=False)
    _last_run: float | None = field(default=None, init=False, repr=False)

    # -- reading -------------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return bool(self.env or self.cmd or self.inline)

    @property
    def known(self) -> bool:
        """The secret has been fetched (and not rejected since)."""
        return self._value is not None

    def pending(self) -> str | None:
        """"token_cmd `pass show ci` still running, 12 s" while the command runs, else None."""
        if self._started is None:
            return None
        elapsed = max(0, int(self.clock() - self._started))
        return self._say(f"{self._cmd_label} still running, {elapsed} s")

    def renew_wait(self) -> float | None:
        """Seconds until `renew` may run the command again; None when renewing cannot give
        a new secret by running anything (an env var or the file)."""
        if not self.cmd:
            return None
        if self._last_run is None:
            return 0.0
        return max(0.0, self._last_run + self.rerun_after_s - self.clock())

    async def get(self) -> str | None:
        """The secret, fetched now if not known yet; None when none is configured.
        Raises TokenError."""
        if self._value is None:
            self._value = await self._fetch()
        return self._value

    async def renew(self) -> str | None:
        """After the server rejected the secret: read it again. The new secret when it
        differs, None when it is the same (or the command ran less than `rerun_after_s` ago).
        A failure forgets the rejected secret, so the next `get` fetches afresh."""
        if not (self.env or self.cmd):
            return None
        if self.cmd and (self.renew_wait() or 0.0) > 0:
            return None
        try:
            fresh = await self._fetch()
        except TokenError:
            self._value = None
            raise
        if fresh == self._value:
            return None
        self._value = fresh
        return fresh

    async def aclose(self) -> None:
        """Stop a command still running (and its children)."""
        task = self._running
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TokenError):
                await task

    # -- fetching ------------------------------------------------------------------------

    async def _fetch(self) -> str | None:
        if self.env:
            return self._from_env(self.env)
        if self.cmd:
            return await self._shared_run()
        return self.inline

    def _from_env(self, name: str) -> str:
        value = (os.environ.get(name) or "").strip()
        if not value:
            raise TokenError(self._say(f"{self.what}: env {name} is not set"))
        return self._checked(value, f"{self.what}: env {name}")

    async def _shared_run(self) -> str:
        task = self._running
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._run_command(), name=f"{self.what}:{self.source}"
            )
            self._running = task
            task.add_done_callback(self._ran)
        # Shielded: a caller that gives up (a poll cancelled at exit, a closed screen) does
        # not kill the command another caller waits for; `aclose` does.
        return await asyncio.shield(task)

    def _ran(self, task: asyncio.Task[str]) -> None:
        if self._running is task:
            self._running = None
        if not task.cancelled():
            task.exception()  # every waiter got it; do not warn "never retrieved"

    async def _run_command(self) -> str:
        assert self.cmd is not None
        label = self._cmd_label
        try:
            argv = shlex.split(self.cmd)
        except ValueError as exc:
            raise TokenError(self._say(f"{label} cannot be read as a command: {exc}")) from None
        if not argv:
            raise TokenError(self._say(f"{label} is empty"))
        self._last_run = self._started = self.clock()
        try:
            return await self._run(argv, label)
        finally:
            self._started = None

    async def _run(self, argv: list[str], label: str) -> str:
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                # Its own process group: a timeout kills `pass` and the gpg it started.
                start_new_session=True,
            )
        except FileNotFoundError:
            raise TokenError(self._say(f"{label}: command `{argv[0]}` not found")) from None
        except PermissionError:
            raise TokenError(
                self._say(f"{label}: command `{argv[0]}` is not executable")
            ) from None
        except OSError as exc:
            raise TokenError(
                self._say(f"{label}: cannot start: {exc.strerror or exc}")
            ) from None
        try:
            async with asyncio.timeout(self.timeout_s):
                out, err = await asyncio.gather(
                    _read_capped(process.stdout), _read_capped(process.stderr)
                )
                code = await process.wait()
        except TimeoutError:
            _kill_group(process.pid)  # even when only a child still holds the pipes
            raise TokenError(
                self._say(f"{label} timed out after {self.timeout_s:g} s")
            ) from None
        finally:
            if process.returncode is None:
                _kill_group(process.pid)
                await process.wait()
        if code != 0:
            how = f"was killed by signal {-code}" if code < 0 else f"exited {code}"
            line = _first_line(err)
            raise TokenError(self._say(f"{label} {how}" + (f": {line}" if line else "")))
        lines = out.decode("utf-8", errors="replace").strip().splitlines()
        if not lines or not lines[0].strip():
            raise TokenError(self._say(f"{label} printed nothing"))
        return self._checked(lines[0].strip(), label)

    def _checked(self, value: str, where: str) -> str:
        # It goes into an HTTP header: a control or non-ASCII character would make httpx
        # raise with the value in its message. Say so without quoting it.
        if not (value.isascii() and value.isprintable()):
            raise TokenError(self._say(
                f"{where} gave a {self.what} with control or non-ASCII characters"
            ))
        return value

    @property
    def _cmd_label(self) -> str:
        # Cut, so that what happened ("still running", "timed out") stays on a one-line
        # source line.
        cmd = self.cmd or ""
        shown = cmd if len(cmd) <= CMD_SHOWN else cmd[: CMD_SHOWN - 1] + "…"
        return f"{self.what}_cmd `{shown}`"

    def _say(self, text: str) -> str:
        return f"{self.source}: {text}"


def token_resolver(source: SourceConfig, timeout_s: float = DEFAULT_TIMEOUT_S) -> SecretResolver:
    """The resolver of a source's `token_env` / `token_cmd` / `token`."""
    return SecretResolver(
        source.name, "token", env=source.token_env, cmd=source.token_cmd, inline=source.token,
        timeout_s=timeout_s, rerun_after_s=RERUN_AFTER_S,
    )


def password_resolver(
    source: SourceConfig, timeout_s: float = DEFAULT_TIMEOUT_S
) -> SecretResolver:
    """The resolver of the scheduler's login password (`password_env` / `password_cmd`)."""
    return SecretResolver(
        source.name, "password", env=source.password_env, cmd=source.password_cmd,
        timeout_s=timeout_s, rerun_after_s=RERUN_AFTER_S,
    )


async def _read_capped(stream: asyncio.StreamReader | None) -> bytes:
    """Up to MAX_OUTPUT_BYTES of a pipe, then its end (the rest is drained, not kept)."""
    if stream is None:
        return b""
    kept = bytearray()
    while chunk := await stream.read(65536):
        if len(kept) < MAX_OUTPUT_BYTES:
            kept += chunk[: MAX_OUTPUT_BYTES - len(kept)]
    return bytes(kept)


def _first_line(data: bytes) -> str:
    """A failing command's first stderr line, printable and short (it reaches the screen)."""
    for line in data.decode("utf-8", errors="replace").splitlines():
        clean = "".join(c for c in line if c.isprintable()).strip()
        if clean:
            return clean if len(clean) <= STDERR_SHOWN else clean[: STDERR_SHOWN - 1] + "…"
    return ""


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
