"""The normalized run model every provider maps onto (DESIGN section 2), in three modules:
`status` (RunStatus and the progress rules), `times` (UTC and durations) and `run` (the
pydantic models). Everything is importable from here: `from runwatch.models import Run`.

Each name loads its own module on first use (PEP 562): `status` and `times` need no
pydantic, so what reads only statuses and times (`runwatch history`'s figures, the output
helpers) does not pay pydantic's import (~100 ms) for the models it never builds.
"""

from __future__ import annotations

from runwatch.lazy_exports import lazy_exports

TYPE_CHECKING = False  # not typing's: this package is imported by `runwatch history`
if TYPE_CHECKING:  # `X as X`: mypy's explicit re-export, as no computed __all__ is read
    from runwatch.models.run import (  # noqa: I001 (isort splits `X as X` one a line)
        STDERR_MARK as STDERR_MARK,
        Cancellation as Cancellation,
        CleanLog as CleanLog,
        CleanMultiline as CleanMultiline,
        CleanText as CleanText,
        Group as Group,
        Run as Run,
        RunDetail as RunDetail,
        Spec as Spec,
        Step as Step,
        TestCounts as TestCounts,
        TestResult as TestResult,
        cancellation_text as cancellation_text,
    )
    from runwatch.models.status import (
        TERMINAL_STATUSES as TERMINAL_STATUSES,
        RunStatus as RunStatus,
        map_status as map_status,
        never_ran as never_ran,
        progress_of as progress_of,
        steps_done as steps_done,
    )
    from runwatch.models.times import (
        run_duration as run_duration,
        seconds_between as seconds_between,
        step_duration as step_duration,
        utc as utc,
    )

# Each public name and the module it lives in; `__all__` is these names (the block above
# repeats them for mypy; tests/test_models_exports.py checks that both say the same).
_HOME = {
    **dict.fromkeys(("STDERR_MARK", "Cancellation", "CleanLog", "CleanMultiline", "CleanText",
                     "Group", "Run", "RunDetail", "Spec", "Step", "TestCounts", "TestResult",
                     "cancellation_text"), "run"),
    **dict.fromkeys(("TERMINAL_STATUSES", "RunStatus", "map_status", "never_ran",
                     "progress_of", "steps_done"), "status"),
    **dict.fromkeys(("run_duration", "seconds_between", "step_duration", "utc"), "times"),
}

__all__ = sorted(_HOME)


__getattr__, __dir__ = lazy_exports(__name__, _HOME)
