"""The normalized run model every provider maps onto (DESIGN section 2), in three modules:
`status` (RunStatus and the progress rules), `times` (UTC and durations) and `run` (the
pydantic models). Everything is importable from here: `from runwatch.models import Run`."""

from runwatch.models.run import (
    STDERR_MARK,
    Cancellation,
    CleanLog,
    CleanMultiline,
    CleanText,
    Group,
    Run,
    RunDetail,
    Spec,
    Step,
    TestCounts,
    TestResult,
    cancellation_text,
)
from runwatch.models.status import (
    TERMINAL_STATUSES,
    RunStatus,
    map_status,
    never_ran,
    progress_of,
    steps_done,
)
from runwatch.models.times import run_duration, seconds_between, step_duration, utc

__all__ = [
    "STDERR_MARK",
    "TERMINAL_STATUSES",
    "Cancellation",
    "CleanLog",
    "CleanMultiline",
    "CleanText",
    "Group",
    "Run",
    "RunDetail",
    "RunStatus",
    "Spec",
    "Step",
    "TestCounts",
    "TestResult",
    "cancellation_text",
    "map_status",
    "never_ran",
    "progress_of",
    "run_duration",
    "seconds_between",
    "step_duration",
    "steps_done",
    "utc",
]
