"""The checks of a simulated Conduct run, as conduct.sh serves them: recorded with their
result once they end (`{id, checkId, runId, result, createdAt}`), each with a markdown text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runwatch.sim.core import iso

if TYPE_CHECKING:
    from runwatch.sim.conduct import SimRun

CHECK_NAMES = ["spec-lint", "typecheck", "unit", "acceptance", "review"]


def check_id(run: SimRun, i: int) -> str:
    return f"{run.run_id}-{CHECK_NAMES[i]}"


def recorded_checks(run: SimRun, now: float) -> list[dict[str, Any]]:
    """The checks recorded by `now`: a check is recorded, with its result, when it ends."""
    script = run.script
    checks = []
    for i in range(len(script.steps)):
        phase = script.step_phase(i, now)
        if phase not in ("passed", "failed"):
            continue
        _, completed = script.step_times(i, now)
        checks.append({
            "id": run.id * 100 + i + 1,
            "checkId": check_id(run, i),
            "runId": run.run_id,
            "result": "fail" if phase == "failed" else "warn" if i in run.warns else "pass",
            "createdAt": iso(completed),
        })
    return checks


def check_content(run: SimRun, i: int, check: dict[str, Any]) -> str:
    """A check's text: markdown, as an agent writes it."""
    step = run.script.steps[i]
    count = 1 + int(step.duration_s) % 4  # any stable small number
    lines = [f"# {CHECK_NAMES[i]}", "", f"Result: {check['result']}", ""]
    if check["result"] == "fail":
        lines += [f"- assertion {n} failed: expected the spec's behaviour"
                  for n in range(1, count + 1)]
    elif check["result"] == "warn":
        lines += [f"- warning {n}: acceptable, but worth a look" for n in range(1, count + 1)]
    else:
        lines.append(f"All of {run.spec_id} holds.")
    return "\n".join(lines) + "\n"
