"""Hostile strings (issue 8): a simulated API whose every human-readable string is an attack
on the terminal and on Textual's markup, as anyone who can name a commit or a branch can make
a real one send.

Two fault kinds, injected like the others (`Simulator.inject`, or `PUT /_sim/faults/NAME`):

- `hostile_text`: every title, commit message, branch, author, step name, check message,
  report, test error and log line the API sends carries `PAYLOAD` (OSC 52 clipboard write,
  OSC 0/2 window titles, a screen clear, a C1 CSI, a bidi override, an OSC 8 link, Textual
  markup with an action, and colour); every run id (and the ids that lead to a run's parts) carries
  `ID_MARK`, markup that crashes or clicks, and it still works in paths and query strings
  (the mark is taken off requests before routing).
- `hostile_error`: every request fails with a long error body full of `PAYLOAD`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from runwatch.sim.kit import capture, send_answer

HOSTILE_KINDS = ("hostile_text", "hostile_error")

# What each attack is, so tests can name what must never reach the terminal.
OSC52_CLIPBOARD = "\x1b]52;c;aGVsbG8=\x07"  # "hello" into the clipboard
OSC0_TITLE = "\x1b]0;pwned-title\x07"
OSC2_TITLE = "\x1b]2;pwned-title\x1b\\"
CLEAR_SCREEN = "\x1b[2J"
C1_CSI = "\x9b31m"
BIDI_OVERRIDE = "\u202e"
OSC8_LINK = "\x1b]8;;https://evil.example/\x1b\\evil-link\x1b]8;;\x1b\\"
MARKUP = "[/] [@click=app.quit]click[/] [link=x]x[/link] [@click=app.screenshot('/tmp')]s"
# Colour, which logs and test errors keep (and only those, and only as styles on screen).
SGR_RED, SGR_RESET = "\x1b[31m", "\x1b[0m"
PAYLOAD = (SGR_RED + OSC52_CLIPBOARD + OSC0_TITLE + OSC2_TITLE + CLEAR_SCREEN + C1_CSI
           + BIDI_OVERRIDE + OSC8_LINK + " " + MARKUP + " " + SGR_RESET)
# PAYLOAD as the sanitizer leaves it: the words, not one escape.
PAYLOAD_CLEANED = "evil-link " + MARKUP + " "
ID_MARK = "[/][@click=app.quit]"

# The keys whose string values are text a person reads, per API (ids, statuses, times and
# cursors are left alone: they are what the client navigates by).
TEXT_KEYS: dict[str, frozenset[str]] = {
    "services": frozenset({"commitMessage", "committer", "message", "type"}),
    "wercker": frozenset({"message", "branch", "name", "username", "step", "url",
                          "pipelineName"}),
    "currents": frozenset({"message", "authorName", "branch", "title", "originalTitle",
                           "browserName", "osName", "displayError", "stack", "error"}),
    "conduct": frozenset({"name", "message", "content"}),
    "scheduler": frozenset({"name", "label", "message", "description", "ownerName"}),
}
# The keys of the ids that name a run (and, where the client fetches them by id, its parts).
ID_KEYS: dict[str, frozenset[str]] = {
    "services": frozenset({"id", "runId", "stageId"}),
    "wercker": frozenset({"id"}),
    "currents": frozenset({"runId"}),
    "conduct": frozenset({"runId"}),
    "scheduler": frozenset({"runId"}),
}


def hostile_json(provider: str, value: Any, key: str | None = None) -> Any:
    """`value` (a decoded JSON body) with PAYLOAD before every text string and ID_MARK after
    every id."""
    if isinstance(value, dict):
        return {k: hostile_json(provider, v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [hostile_json(provider, v, key) for v in value]
    if isinstance(value, str) and key is not None:
        if key in TEXT_KEYS.get(provider, frozenset()):
            # Multi-line text (a report) gets it on every line, as a log would.
            return "\n".join(PAYLOAD + line for line in value.split("\n"))
        if key in ID_KEYS.get(provider, frozenset()) and value:
            return value + ID_MARK
    return value


def hostile_lines(text: str) -> str:
    """A plain-text body (a log) with PAYLOAD on every line."""
    return "\n".join(PAYLOAD + line if line else line for line in text.split("\n"))


def unmarked(scope: Scope) -> Scope:
    """The request without the ID_MARKs a client copied from our answers into its path and
    query, so the marked ids lead where the real ones do."""
    path: str = scope["path"].replace(ID_MARK, "")
    query = scope.get("query_string", b"").decode("latin-1")
    if ID_MARK in query or "%5B" in query.upper():
        pairs = [(k, v.replace(ID_MARK, "")) for k, v in parse_qsl(query, keep_blank_values=True)]
        query = urlencode(pairs)
    return {**scope, "path": path, "raw_path": path.encode(),
            "query_string": query.encode("latin-1")}


def long_error() -> bytes:
    """An error body no line can hold: PAYLOAD many times over, in the keys every API's
    error shape uses."""
    text = ("upstream exploded: " + PAYLOAD) * 12
    return json.dumps({"message": text, "error": text, "status": "FAILED"}).encode()


async def apply(kind: str, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer one request under a hostile fault."""
    if kind == "hostile_error":
        await send_answer(send, 400, [(b"content-type", b"application/json")], long_error())
        return
    provider = scope["path"].lstrip("/").partition("/")[0]
    answer = await capture(app, unmarked(scope), receive)
    body, content_type = answer.body, answer.header(b"content-type")
    if "json" in content_type and body:
        body = json.dumps(hostile_json(provider, json.loads(body))).encode()
    elif content_type.startswith("text/plain"):
        body = hostile_lines(body.decode()).encode()
    await send_answer(send, answer.status, answer.headers, body)
