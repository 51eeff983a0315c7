"""Where an alert goes (DESIGN section 14): the terminal (OSC 9 and OSC 777 desktop
notifications, the bell), a command, a webhook.

The terminal channels only build bytes for the dashboard's own writer (the screen is drawn by
one thread; an escape sequence must not land inside a frame). The command and the webhook
block, so the engine runs them on its worker threads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from runwatch.alerts.rules import Alert
from runwatch.ascii_fallback import to_ascii
from runwatch.sanitize import clean_text

OSC_TEXT_MAX = 240  # some terminals drop a longer notification whole
TITLE = "runwatch"


@dataclass(frozen=True)
class Notice:
    """What every channel gets: the coalesced alerts and their one line of text."""

    alerts: tuple[Alert, ...]
    text: str

    @property
    def first(self) -> Alert:
        return self.alerts[0]


def _osc_safe(text: str, limit: int = OSC_TEXT_MAX, *, ascii: bool = False) -> str:
    # clean_text removes every control (no BEL or ESC can end the sequence early); `;` would
    # split OSC 777's fields, and a leading "4;" is ConEmu's progress bar, not a message.
    text = clean_text(text).replace(";", ",")
    if ascii:  # before the cap: a wide character becomes two, and the cap is on what is sent
        text = to_ascii(text)
    if len(text) <= limit:
        return text
    ellipsis = to_ascii("…") if ascii else "…"  # the ASCII table's, as the screen draws it
    return text[: limit - len(ellipsis)] + ellipsis


def desktop_sequence(text: str, *, tmux: bool, ascii: bool = False) -> str:
    """OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty, foot) and OSC 777 (rxvt-unicode,
    foot, kitty, WezTerm, VTE) for one notification; wrapped in tmux's DCS passthrough
    (`set -g allow-passthrough on`) when `tmux` is set. `ascii`: for a terminal that gets
    only ASCII (the C locale, `--ascii`), the text as its screen draws it."""
    body = _osc_safe(text, ascii=ascii)
    sequences = [f"\x1b]9;{body}\x07", f"\x1b]777;notify;{TITLE};{body}\x07"]
    if tmux:
        sequences = [tmux_passthrough(s) for s in sequences]
    return "".join(sequences)


def tmux_passthrough(sequence: str) -> str:
    """tmux hands `ESC P tmux; ... ESC \\` to the outer terminal, every ESC inside doubled."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


BELL = "\x07"


def in_tmux(env: Mapping[str, str] | None = None) -> bool:
    return bool((os.environ if env is None else env).get("TMUX"))


def command_env(notice: Notice, *, secrets: Sequence[str],
                base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The command's environment: runwatch's own, less every variable a source reads a token
    or password from, plus the facts of the (first) run."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in secrets and not k.startswith("RUNWATCH_")}
    run = notice.first.run
    env.update({
        "RUNWATCH_SOURCE": run.source, "RUNWATCH_RUN_ID": run.id,
        "RUNWATCH_STATUS": run.status.value, "RUNWATCH_TITLE": run.title or "",
        "RUNWATCH_WEB_URL": run.web_url or "", "RUNWATCH_ALERT": notice.first.kind,
        "RUNWATCH_MESSAGE": notice.text, "RUNWATCH_COUNT": str(len(notice.alerts)),
    })
    return env


def run_command(argv: Sequence[str], notice: Notice, *, timeout_s: float,
                secrets: Sequence[str]) -> str | None:
    """Run the command with the alert's text as its last argument; why it failed, or None."""
    try:
        done = subprocess.run([*argv, notice.text], env=command_env(notice, secrets=secrets),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return f"`{argv[0]}` did not finish within {timeout_s:g} s (killed)"
    except OSError as exc:
        return f"`{argv[0]}` could not run: {exc.strerror or exc}"
    if done.returncode != 0:
        said = clean_text(done.stderr.decode("utf-8", "replace")).strip()[:200]
        return f"`{argv[0]}` exited with {done.returncode}" + (f": {said}" if said else "")
    return None


def webhook_body(notice: Notice) -> dict[str, object]:
    """Slack's (and Mattermost's, Discord's /slack, Teams' workflows') `text`, plus the runs."""
    return {
        "text": notice.text,
        "runs": [{"alert": a.kind, "source": a.run.source, "id": a.run.id,
                  "status": a.run.status.value, "title": a.run.title,
                  "pipeline": a.run.pipeline, "branch": a.run.branch,
                  "commit": a.run.commit, "author": a.run.author,
                  "web_url": a.run.web_url} for a in notice.alerts],
    }


class WebhookFailed(Exception):
    """An attempt that may succeed when tried again (network, 429, 5xx)."""


class _Final(Exception):
    """An answer that another attempt would not change (a 4xx)."""


def post_webhook(url: str, notice: Notice, *, timeout_s: float, attempts: int = 3,
                 wait: Callable[[int], float] | None = None) -> str | None:
    """POST the JSON body, retried (tenacity) on a network error, 429 or 5xx; why it failed,
    or None. The URL often holds a secret (Slack's does): messages name its host only."""
    import httpx
    import tenacity

    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    body = json.dumps(webhook_body(notice)).encode()

    def once() -> None:
        try:
            answer = httpx.post(url, content=body, timeout=timeout_s,
                                headers={"content-type": "application/json"})
        except httpx.HTTPError as exc:
            raise WebhookFailed(f"webhook to {host}: {_http_reason(exc)}") from None
        if answer.status_code == 429 or answer.status_code >= 500:
            raise WebhookFailed(f"webhook to {host}: HTTP {answer.status_code}")
        if answer.status_code >= 300:
            # 4xx but 429: the hook is wrong or gone; asking again will not help.
            raise _Final(f"webhook to {host}: HTTP {answer.status_code}")

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=(tenacity.wait_exponential(multiplier=0.5, max=4) if wait is None
              else (lambda state: wait(state.attempt_number))),
        retry=tenacity.retry_if_exception_type(WebhookFailed), reraise=True)
    try:
        retrying(once)
    except (WebhookFailed, _Final) as exc:
        return str(exc)
    return None


def _http_reason(exc: Exception) -> str:
    name = type(exc).__name__
    return {"ConnectError": "cannot connect", "ConnectTimeout": "connect timed out",
            "ReadTimeout": "no answer in time"}.get(name, re.sub(r"(?<!^)(?=[A-Z])", " ",
                                                                 name).lower())
