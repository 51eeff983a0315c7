"""The alerts engine (DESIGN section 14): runs that just ended are turned into alerts by the
`[notify]` rules, held for a moment so that a poll's several endings become one message, kept
to one per track per `quiet` minutes, and sent to each channel whose rule lets them through.

It lives on the session's event loop: `offer` is called with each `RunTransition`. The
terminal's bytes go to `write` (the dashboard's own writer) on that loop; the command and
the webhook run on a small thread pool, so nothing here ever waits on the UI thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from runwatch.alerts import channels
from runwatch.alerts.channels import Notice
from runwatch.alerts.rules import Alert, allowed, message, transitions
from runwatch.config_notify import NotifyConfig
from runwatch.models import Run

log = logging.getLogger(__name__)

COALESCE_S = 1.0  # the endings one poll (or a few at once) brings become one message
CHANNELS = ("desktop", "bell", "command", "webhook")
Track = tuple[str, str | None, str | None]


class Alerter:
    """Decides, coalesces, rate-limits and dispatches alerts."""

    def __init__(
        self,
        config: NotifyConfig,
        *,
        secrets: Sequence[str] = (),
        write: Callable[[str], None] | None = None,
        on_problem: Callable[[str], None] | None = None,
        now: Callable[[], float] = time.time,
        coalesce_s: float = COALESCE_S,
        tmux: bool | None = None,
        webhook_wait: Callable[[int], float] | None = None,
    ) -> None:
        self.config = config
        self.secrets = tuple(secrets)
        # The terminal's writer; None (no screen of ours): desktop and bell stay silent.
        self.write = write
        self.on_problem: Callable[[str], None] = on_problem or (lambda text: log.warning(text))
        self.now = now
        self.coalesce_s = coalesce_s
        self.tmux = channels.in_tmux() if tmux is None else tmux
        self.ascii = False  # the terminal gets only ASCII (the C locale, `--ascii`)
        self.webhook_wait = webhook_wait
        self.sent: list[Notice] = []  # every notice sent (tests, debugging)
        self._pending: list[Alert] = []
        self._last: dict[Track, float] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._failing: dict[str, bool] = {}  # a channel's failure is said once per streak
        self._futures: list[Future[None]] = []

    def offer(self, run: Run, track_runs: Iterable[Run]) -> list[Alert]:
        """A run that just ended, with the runs the poller holds (its track's past among
        them): what alerts it raised (sent after the coalescing moment)."""
        kinds = transitions(run, track_runs)
        alerts = [Alert(kind, run) for kind in kinds
                  if any(self._channel_on(ch) and allowed(self.config, ch, Alert(kind, run))
                         for ch in CHANNELS)]
        if not alerts:
            return []
        at = self.now()
        last = self._last.get(run.track)
        if last is not None and at - last < self.config.quiet * 60:
            log.debug("alert for %s held back: within the quiet window", run.track)
            return []
        self._last[run.track] = at
        self._pending.extend(alerts[:1])  # one alert per track: the first kind says most
        self._schedule()
        return alerts[:1]

    def _channel_on(self, channel: str) -> bool:
        c = self.config
        return {"desktop": c.desktop, "bell": c.bell, "command": c.command is not None,
                "webhook": c.webhook is not None}[channel]

    def _schedule(self) -> None:
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()  # no loop (a script): at once
            return
        self._flush_handle = loop.call_later(self.coalesce_s, self.flush)

    def flush(self) -> None:
        """Send what is pending: one notice per channel, of the alerts its rule lets by."""
        self._flush_handle = None
        pending, self._pending = self._pending, []
        if not pending:
            return
        for channel in CHANNELS:
            if not self._channel_on(channel):
                continue
            mine = tuple(a for a in pending if allowed(self.config, channel, a))
            if mine:
                self._send(channel, Notice(mine, message(mine)))

    def _send(self, channel: str, notice: Notice) -> None:
        self.sent.append(notice)
        if channel in ("desktop", "bell"):
            if self.write is not None:
                self.write(channels.desktop_sequence(notice.text, tmux=self.tmux, ascii=self.ascii)
                           if channel == "desktop" else channels.BELL)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="runwatch-alert")
        self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(self._pool.submit(self._blocking, channel, notice))

    def _blocking(self, channel: str, notice: Notice) -> None:
        c = self.config
        if channel == "command" and c.command:
            problem = channels.run_command(c.command, notice, timeout_s=c.command_timeout,
                                           secrets=self.secrets)
        elif channel == "webhook" and c.webhook:
            problem = channels.post_webhook(c.webhook, notice, timeout_s=c.webhook_timeout,
                                            wait=self.webhook_wait)
        else:
            return
        if problem is None:
            self._failing[channel] = False
        elif not self._failing.get(channel):
            self._failing[channel] = True
            try:
                self.on_problem(f"alert {channel}: {problem}")
            except Exception:
                log.exception("reporting an alert failure failed")

    def drain(self, timeout: float = 30.0) -> None:
        """Wait for the command and webhook sends in flight (tests; shutdown)."""
        for future in list(self._futures):
            future.result(timeout)

    def close(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self.flush()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=False)
