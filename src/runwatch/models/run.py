"""The normalized run model every provider maps onto (DESIGN section 2): pydantic models
whose field names are the JSON contract of `runwatch list --json` and `show --json`.

Every model is built at its first validation, not at import (`defer_build`): a command pays
only for the models it uses (`list` builds Run and TestCounts, never the run screen's).
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_serializer,
    model_validator,
)

from runwatch.models.status import RunStatus, never_ran, progress_of, steps_done
from runwatch.models.times import seconds_between, utc
from runwatch.sanitize import clean_log, clean_multiline, clean_text


def _cleaned(clean: Callable[[object], str]) -> Callable[[object], object]:
    def validate(value: object) -> object:
        # The fast path inline: a clean string costs one call (this runs for every string of
        # every run of every poll that maps a changed body).
        if value.__class__ is str and value.isprintable():
            return value
        return clean(value) if isinstance(value, str) else value

    return validate


# Every string an API sends goes through the sanitizer here, whichever provider mapped it, so
# no layer above ever sees an escape sequence or a control character (issue 8).
CleanText = Annotated[str, BeforeValidator(_cleaned(clean_text))]
CleanMultiline = Annotated[str, BeforeValidator(_cleaned(clean_multiline))]
CleanLog = Annotated[str, BeforeValidator(_cleaned(clean_log))]

_M = TypeVar("_M", bound=BaseModel)


def _timed(model: _M) -> _M:
    """Times in UTC, and the duration from them: timestamps win over a provider's own
    duration figure when both exist. (The models are frozen; this runs at validation.)"""
    started, finished = utc(model.started_at), utc(model.finished_at)  # type: ignore[attr-defined]
    object.__setattr__(model, "started_at", started)
    object.__setattr__(model, "finished_at", finished)
    derived = seconds_between(started, finished)
    if derived is not None:
        object.__setattr__(model, "duration_s", derived)
    return model


def _no_zero_duration(model: _M) -> _M:
    """A step or spec that never ran (or was canceled before it did) took no time at all:
    its "0s" is no duration, so it has none ("–", not "0s")."""
    if model.duration_s == 0 and model.status in _NEVER_TIMED:  # type: ignore[attr-defined]
        object.__setattr__(model, "duration_s", None)
    return model


_NEVER_TIMED = frozenset({RunStatus.SKIPPED, RunStatus.CANCELED, RunStatus.QUEUED,
                          RunStatus.WAITING})


class _Model(BaseModel):
    # defer_build: each model's validator is built at its first use, not at import.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @field_serializer("*", when_used="json", check_fields=False)
    def _iso_utc(self, value: object) -> object:
        # ISO 8601 UTC with a Z, the form every API here uses
        if isinstance(value, datetime):
            return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # type: ignore[union-attr]
        return value


class TestCounts(_Model):
    """Test counters; any the provider does not report stay None."""

    __test__ = False  # not a pytest test class, despite the name

    overall: int | None = None
    passes: int | None = None
    failures: int | None = None
    pending: int | None = None
    skipped: int | None = None
    flaky: int | None = None
    retries: int | None = None


class Run(_Model):
    """One run as the runs list shows it."""

    source: CleanText
    provider: CleanText
    id: CleanText
    status: RunStatus
    provider_status: CleanText
    title: CleanText | None = None
    branch: CleanText | None = None
    commit: CleanText | None = None
    author: CleanText | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    progress: float | None = Field(default=None, ge=0, le=100)
    tests: TestCounts | None = None
    url: CleanText | None = None
    # What repeats (DESIGN section 2): a track is (source, pipeline, branch).
    pipeline: CleanText | None = None
    # The run's page for a person; `url` is the API's address of it.
    web_url: CleanText | None = None
    # This process sent the stop that ended it, on an API that reports a stop as a failure
    # (services): its status reads canceled. Known only here, so never in the JSON.
    stopped_here: bool = Field(default=False, exclude=True)

    @model_validator(mode="after")
    def _derive(self) -> Self:
        object.__setattr__(self, "created_at", utc(self.created_at))
        if self.status is RunStatus.PASSED:
            # Passed is done, whatever was skipped. The rest of the rule: progress_of, which
            # each provider's mapping (and RunDetail, from its steps) applies.
            object.__setattr__(self, "progress", 100.0)
        return _timed(self)

    @property
    def key(self) -> tuple[str, str]:
        """The row key: unique across sources."""
        return (self.source, self.id)

    @property
    def track(self) -> tuple[str, str | None, str | None]:
        """The runs of the same thing over time: (source, pipeline, branch)."""
        return (self.source, self.pipeline, self.branch)

    @property
    def sort_time(self) -> datetime:
        """When the run began, for newest-first order. A run with no time at all that is
        still active is new (queued runs often have none): it sorts first, not last."""
        known = self.created_at or self.started_at
        if known is not None:
            return known
        return datetime.max.replace(tzinfo=UTC) if self.status.is_active else datetime.min.replace(
            tzinfo=UTC
        )


class Step(_Model):
    """A step, stage, node or check of a run, in run order."""

    id: CleanText
    name: CleanText
    order: int
    status: RunStatus
    provider_status: CleanText | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    log_available: bool = False
    message: CleanText | None = None

    @model_validator(mode="after")
    def _derive(self) -> Self:
        return _no_zero_duration(_timed(self))


class Group(_Model):
    """A Currents group: a platform/browser slice of a run."""

    id: CleanText
    platform: CleanText | None = None
    browser: CleanText | None = None
    instances: TestCounts | None = None  # overall / passes(=complete) / failures
    tests: TestCounts | None = None

    @property
    def instances_progress(self) -> float | None:
        if not self.instances or not self.instances.overall:
            return None
        return 100.0 * (self.instances.passes or 0) / self.instances.overall


class Spec(_Model):
    """A spec file's result inside a run."""

    spec: CleanText
    group: CleanText | None = None
    status: RunStatus
    tests: TestCounts | None = None
    duration_s: float | None = None
    instance_id: CleanText | None = None

    @model_validator(mode="after")
    def _derive(self) -> Self:
        return _no_zero_duration(self)


class TestResult(_Model):
    """One test of a spec, with its error where the API gives one."""

    __test__ = False

    title: CleanText
    status: RunStatus
    provider_status: CleanText | None = None
    duration_s: float | None = None
    error: CleanLog | None = None


class Cancellation(_Model):
    """Who canceled a run, when, and why, where the API says (Currents does)."""

    by: CleanText | None = None
    at: datetime | None = None
    reason: CleanText | None = None

    @model_validator(mode="after")
    def _derive(self) -> Self:
        object.__setattr__(self, "at", utc(self.at))
        return self


def cancellation_text(cancellation: Cancellation, when: Callable[[datetime], str]) -> str:
    """"by ana at 2026-11-22 12:00:00 (apiRequest)": the parts the API gave, `when` formats
    the time (a clock in the CLI, "3m ago" on screen)."""
    parts = []
    if cancellation.by:
        parts.append(f"by {cancellation.by}")
    if cancellation.at is not None:
        parts.append(when(cancellation.at))
    text = " ".join(parts) or "canceled"
    return f"{text} ({cancellation.reason})" if cancellation.reason else text


class RunDetail(Run):
    """A run with everything the run screen shows."""

    steps: list[Step] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    specs: list[Spec] = Field(default_factory=list)
    content: CleanMultiline | None = None
    cancellation: Cancellation | None = None

    @model_validator(mode="after")
    def _skip_what_never_ran(self) -> Self:
        # The one place this rule lives: every provider's steps and specs pass through here.
        if self.status.is_terminal:
            object.__setattr__(self, "steps", [
                s if never_ran(s.status, self.status) is s.status
                else s.model_copy(update={"status": RunStatus.SKIPPED, "duration_s": None})
                for s in self.steps
            ])
            object.__setattr__(self, "specs", [
                s if never_ran(s.status, self.status) is s.status
                else s.model_copy(update={"status": RunStatus.SKIPPED, "duration_s": None})
                for s in self.specs
            ])
        progress = progress_of(self.status, self._parts, self.progress)
        object.__setattr__(self, "progress", progress)
        return self

    @property
    def _parts(self) -> list[RunStatus]:
        # What a run is made of: its steps, else its spec files (Currents).
        return [s.status for s in self.steps or self.specs]

    @property
    def steps_done(self) -> tuple[int, int] | None:
        """(steps, else specs, done; all of them): how far the run got; None without any."""
        parts = self._parts
        return (steps_done(self.status, parts), len(parts)) if parts else None

    def summary(self) -> Run:
        """The list-row view of this detail."""
        fields = self.model_dump(include=set(Run.model_fields))
        return Run.model_validate({**fields, "stopped_here": self.stopped_here})


# A log line the API says went to standard error starts with this mark (services logs):
# plain text, so it survives NO_COLOR, a copy and a pipe; the log view also colours it.
STDERR_MARK = "err| "
