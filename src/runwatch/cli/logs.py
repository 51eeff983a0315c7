"""`logs`: a run's step logs (all with one, `--step`, or `--failed`), or a Currents run's
failed tests with their errors; `--follow` prints what is added until the run ends. Lines the
API says went to stderr carry the log view's mark (models.STDERR_MARK, "err| ")."""

from __future__ import annotations

import argparse
import asyncio

from runwatch import output
from runwatch.cli.common import UsageError, say_error
from runwatch.cli.resolve import open_session, resolve
from runwatch.cli.runs import style
from runwatch.cli.watch import FAILED, interval_of
from runwatch.errors import Unsupported
from runwatch.models import RunDetail, Spec, Step
from runwatch.sanitize import clean_log
from runwatch.session import Session


def cmd_logs(args: argparse.Namespace) -> int:
    _, session = open_session(args)
    return asyncio.run(_logs(session, args))


async def _logs(session: Session, args: argparse.Namespace) -> int:
    try:
        run = await resolve(session, args.run_id, args.source)
        facts = session.sources[run.source]
        if facts.has_spec_results:
            return await _spec_tests(session, run, args.step, args.failed)
        if not facts.has_logs:
            raise Unsupported(f"{run.source}: {facts.api} has no step logs")
        return await _step_logs(session, run, args)
    finally:
        await session.aclose()


def pick_steps(run: RunDetail, step: str | None, failed: bool) -> list[tuple[int, Step]]:
    """The (number, step) pairs asked for: --step by name or number, --failed, else every
    step with a log."""
    ordered = list(enumerate(sorted(run.steps, key=lambda s: s.order), start=1))
    if step is not None:
        hits = [(n, s) for n, s in ordered
                if str(n) == step or s.name.casefold() == step.casefold() or s.id == step]
        if not hits:
            names = ", ".join(s.name for _, s in ordered) or "none"
            raise UsageError(f"run {run.id} has no step {step!r} (steps: {names})")
        return hits[:1]
    if failed:
        return [(n, s) for n, s in ordered if s.status in FAILED]
    return [(n, s) for n, s in ordered if s.log_available]


async def _step_logs(session: Session, run: RunDetail, args: argparse.Namespace) -> int:
    painter = style()
    shown: dict[str, str] = {}  # step id -> the log text printed so far
    last_header: str | None = None
    while True:
        chosen = pick_steps(run, args.step, args.failed)
        if not chosen and not args.follow:
            say_error(f"run {run.id} has no {'failed steps' if args.failed else 'step logs'}")
            return 0
        for number, step in chosen:
            if not step.log_available:
                continue
            text = clean_log(await session.log(run, step))
            before = shown.get(step.id, "")
            new = text[len(before):] if text.startswith(before) else text
            shown[step.id] = text
            if not new.strip("\n"):
                continue
            if last_header != step.id:
                output.emit(painter.bold(f"== step {number}/{len(run.steps)} {step.name} "
                                         f"({step.status.value}) =="), color=painter.color)
                last_header = step.id
            output.emit(new.rstrip("\n"), color=painter.color)
        if not args.follow or run.status.is_terminal:
            return 0
        await asyncio.sleep(interval_of(args))
        run = await session.get_run(run.source, run.id)


def _specs(run: RunDetail, step: str | None) -> list[Spec]:
    if step is None:
        return [s for s in run.specs if s.status in FAILED]
    hits = [s for s in run.specs if s.spec == step or s.spec.endswith("/" + step)]
    if not hits:
        names = ", ".join(s.spec for s in run.specs) or "none"
        raise UsageError(f"run {run.id} has no spec {step!r} (specs: {names})")
    return hits


async def _spec_tests(session: Session, run: RunDetail, step: str | None, failed: bool) -> int:
    """Currents: each chosen spec's failed tests (every test of a --step spec, unless
    --failed), with their errors."""
    painter = style()
    specs = _specs(run, step)
    if not specs:
        say_error(f"run {run.id} has no failed specs")
        return 0
    for spec in specs:
        group = f" ({spec.group})" if spec.group else ""
        output.emit(painter.bold(f"== spec {spec.spec}{group} {spec.status.value} =="),
                    color=painter.color)
        tests = await session.tests(run, spec)
        if step is None or failed:
            tests = [t for t in tests if t.status in FAILED]
        if not tests:
            output.emit("  (no test results)")
        for test in tests:
            output.emit(f"{painter.status(test.status)}: {test.title}", color=painter.color)
            if test.error:
                output.emit("\n".join("    " + line for line in
                                      clean_log(test.error).rstrip("\n").splitlines()),
                            color=painter.color)
    return 0
