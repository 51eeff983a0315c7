"""What the simulated services API writes to its stage logs, and its time arithmetic: log
lines as the real server keeps them (`{id (a ULID), message, timestamp, score, type: stdout |
stderr, stageId}`, in score order), from a run script and the clock."""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING, Any

from runwatch.sim.core import iso

if TYPE_CHECKING:
    from runwatch.sim.services import SimRun

_WORK: dict[str, tuple[str, str, str]] = {
    "PREPARE": ("Cloning repository", "Restoring cache", "Installing dependencies"),
    "CODE_QUALITY": ("Running linter", "warning: 2 files would be reformatted",
                     "Auditing dependencies"),
    "UNIT_TEST": ("Collecting tests", "Running unit tests", "Writing coverage report"),
    "BUILD": ("Compiling sources", "Building image", "Pushing image"),
    "INTEGRATION_TEST": ("Starting services", "Running integration suite", "Collecting results"),
    "DEPLOY_STAGING": ("Rendering manifests", "Rolling out to staging", "Checking health"),
    "DEPLOY_PROD": ("Rendering manifests", "Rolling out to production", "Checking health"),
}
# What a stage's work writes to stderr although the stage goes on (the rest is stdout).
_WARNINGS = frozenset({"warning: 2 files would be reformatted"})
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

LogLine = tuple[float, str, str]  # when, stream (stdout | stderr), message


def log_lines(run: SimRun, i: int, now: float) -> list[LogLine]:
    """The lines stage `i` of `run` has written by `now`, oldest first."""
    script = run.script
    begin, _ = script.step_times(i, now)
    if begin is None:
        return []
    step = script.steps[i]
    stop = now if script.canceled_at is None else min(now, script.canceled_at)
    lines: list[LogLine] = [(begin, "stdout", f"Stage {step.name} started")]
    work_from, work_s = begin, step.duration_s
    if (approved := run.approval_until(i)) is not None:
        lines.append((begin, "stdout", "Waiting for approval"))
        lines.append((approved, "stdout", f"Approved by {script.author}"))
        work_from, work_s = approved, step.duration_s / 2
    for k, text in enumerate(_WORK.get(step.name, ("Working",) * 3)):
        stream = "stderr" if text in _WARNINGS else "stdout"
        lines.append((work_from + work_s * (k + 1) / 4, stream, text))
    lines = [line for line in lines if line[0] <= stop]
    phase = script.step_phase(i, now)
    finished = begin + step.duration_s
    if phase == "passed":
        lines.append((finished, "stdout", f"Stage {step.name} succeeded in "
                                          f"{whole_seconds(begin, finished)}s"))
    elif phase == "failed":
        lines.append((finished, "stderr", f"{lines[-1][2]} failed: exit code 1"))
    elif phase == "canceled" and script.canceled_at is not None:
        lines.append((script.canceled_at, "stderr", "Stopped by request"))
    return sorted(lines, key=lambda line: line[0])


def log_body(run: SimRun, i: int, stage_id: str, now: float) -> list[dict[str, Any]]:
    """GET /api/logs?stageId= as the server answers it: ordered by score."""
    return [
        {"id": ulid(when, f"{stage_id}:{n}"), "message": message, "timestamp": iso(when),
         "score": epoch_ms(when), "type": stream, "stageId": stage_id}
        for n, (when, stream, message) in enumerate(log_lines(run, i, now))
    ]


def whole_seconds(start: float | None, end: float | None) -> int | None:
    # The server stores milliseconds (those its timestamps show) and reports ceil(ms / 1000).
    if start is None or end is None:
        return None
    return math.ceil((epoch_ms(end) - epoch_ms(start)) / 1000)


def epoch_ms(ts: float) -> int:
    return round(ts * 1_000_000) // 1000  # as iso() renders it: microseconds, cut to ms


def ulid(ts: float, salt: str) -> str:
    """A ULID: 48 bits of milliseconds, then 80 bits that are random in the real server and
    a hash of `salt` here (so a frozen clock serves the same ids)."""
    noise = (zlib.crc32(salt.encode()) << 48) | zlib.adler32(salt[::-1].encode())
    value = (epoch_ms(ts) << 80) | noise
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
