"""A run's page for a person (DESIGN sections 2 and 7), and opening it.

`Run.url` is the API's address of a run; `Run.web_url` is where a person opens it. The link
comes from the source's `web_url` template, else from the provider's default when the source
talks to the provider's public API (`catalog.ProviderSpec.web_url`), else there is none. It is
set in one place, `WebLinks`, which the poller and the session apply to every run a provider
hands back: no provider knows about web links.

Template values are API text, so untrusted: each is URL-quoted as one path segment (a slash
or a `?` in a branch name cannot move the link elsewhere), and a link that is not http(s)
with a host is dropped.

This module imports no pydantic, httpx or Textual: the TUI and the command line both open
links through it.
"""

from __future__ import annotations

import base64
import os
import string
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, urlsplit

from runwatch.catalog import CATALOG

if TYPE_CHECKING:
    from runwatch.config import SourceConfig
    from runwatch.models import Run

    R = TypeVar("R", bound=Run)
else:
    R = TypeVar("R")

__all__ = ["RUN_PLACEHOLDERS", "WebLinks", "has_display", "osc52", "template_problem"]

# The run's own values a template may name; the source's scope keys come on top.
RUN_PLACEHOLDERS = ("id", "branch", "commit", "pipeline")


def _fields(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    return list(string.Formatter().parse(template))


def template_problem(template: str, scope_keys: Sequence[str]) -> str | None:
    """What is wrong with a `web_url` template, in a config message's words; None if fine."""
    allowed = (*RUN_PLACEHOLDERS, *scope_keys)
    names = ", ".join("{" + n + "}" for n in allowed)
    try:
        parts = _fields(template)
    except ValueError as exc:
        return f"is not a template ({exc}); it takes {names}"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            return f"has an unknown placeholder {{{name}}}; it takes {names}"
        if spec or conversion:
            return f"placeholder {{{name}}} takes no format or conversion"
    if not template.isprintable():
        return "holds a control character"
    literal = "".join(text for text, *_ in parts)
    if not literal.lower().startswith(("http://", "https://")):
        return "needs http:// or https://"
    return None


def _is_web(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def render(template: str, values: Mapping[str, str | None]) -> str | None:
    """The template with every placeholder filled in, quoted; None when one has no value
    (a run without a branch has no branch page) or the result is no http(s) link."""
    out = []
    for text, name, _, _ in _fields(template):
        out.append(text)
        if name is None:
            continue
        value = values.get(name)
        if not value:
            return None
        out.append(quote(value, safe=""))
    url = "".join(out)
    return url if _is_web(url) else None


def default_template(provider: str, base_url: str) -> str | None:
    """The provider's public web app, for a source on its public API only (a self-hosted or
    simulated server's runs are not in the public app)."""
    spec = CATALOG.get(provider)
    if spec is None or spec.web_url is None or spec.public_api_host is None:
        return None
    try:
        host = urlsplit(base_url).hostname
    except ValueError:
        return None
    return spec.web_url if host == spec.public_api_host else None


class WebLinks:
    """A source's web links, set on the runs it lists. Memoised by identity: a list (or a
    run) the provider hands back unchanged gets back the very linked list (or run) of last
    time, so the poller's "same list, nothing to diff" still holds."""

    def __init__(self, template: str | None, scope: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.scope = dict(scope or {})
        self._last: tuple[list[Run], list[Run]] | None = None
        self._items: dict[str, tuple[Run, Run]] = {}

    @classmethod
    def for_source(cls, source: SourceConfig) -> WebLinks:
        template = source.web_url or default_template(source.provider, source.base_url)
        return cls(template, source.scope())

    def url(self, run: Run) -> str | None:
        if self.template is None:
            return None
        values: dict[str, str | None] = {**self.scope, "id": run.id, "branch": run.branch,
                                         "commit": run.commit, "pipeline": run.pipeline}
        return render(self.template, values)

    def run(self, run: R) -> R:
        """`run` with its web link (the same object when it already has that link)."""
        url = self.url(run)
        return run if url == run.web_url else run.model_copy(update={"web_url": url})

    def runs(self, runs: list[Run]) -> list[Run]:
        if self.template is None:
            return runs
        if self._last is not None and self._last[0] is runs:
            return self._last[1]
        linked = []
        items: dict[str, tuple[Run, Run]] = {}
        for run in runs:
            cached = self._items.get(run.id)
            done = cached[1] if cached is not None and cached[0] is run else self.run(run)
            items[run.id] = (run, done)
            linked.append(done)
        self._items = items
        self._last = (runs, linked)
        return linked


# -- opening ---------------------------------------------------------------------------------


def has_display(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a browser opened here would be seen by the person at the keyboard: not over
    SSH (the browser would open on the remote machine, if anywhere), and on Linux and the
    BSDs only with an X or Wayland display."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return False
    if platform == "darwin" or platform.startswith(("win", "cygwin")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> bool:
    """Open `url` with the platform's opener (`$BROWSER` first); False when none worked."""
    import webbrowser  # only when a link is opened: not on the dashboard's way up

    if not _is_web(url):
        return False
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False


def osc52(text: str) -> str:
    """The escape sequence that asks the terminal to put `text` on the clipboard (works over
    SSH, in most terminals; tmux passes it on with `set-clipboard on`)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"\x1b]52;c;{payload}\x07"
