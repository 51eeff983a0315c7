"""The Provider contract every API module implements, with the read-only and capability
guards in one place so that no provider can forget them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import ClassVar

from runwatch.config import SourceConfig
from runwatch.errors import ReadOnlyError, Unsupported
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, Spec, Step, TestResult


class Action(StrEnum):
    """A mutating action on a run."""

    CANCEL = "cancel"
    RERUN = "rerun"
    DELETE = "delete"


class Provider(ABC):
    """One configured source speaking one runs API.

    Subclasses implement the `_`-prefixed mutating hooks for the actions they list in
    `actions`; the public methods check read-only and capability before any I/O.
    """

    name: ClassVar[str]
    actions: ClassVar[frozenset[Action]] = frozenset()
    # What the cancel action is called in this API's own words (Wercker: "abort").
    cancel_verb: ClassVar[str] = "cancel"
    has_logs: ClassVar[bool] = False
    # Whether get_log marks the lines the API says went to stderr (models.STDERR_MARK).
    marks_stderr: ClassVar[bool] = False
    has_spec_results: ClassVar[bool] = False

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        self.source = source
        self.client = client
        self.limit = limit

    @property
    def read_only(self) -> bool:
        return self.client.read_only

    # -- reading ---------------------------------------------------------------------

    @abstractmethod
    async def list_runs(self) -> list[Run]:
        """The newest `limit` runs, newest first."""

    @abstractmethod
    async def get_run(self, run_id: str) -> RunDetail:
        """One run with steps, groups, specs and content. Raises NotFound."""

    async def get_log(self, run_id: str, step: Step) -> str:
        """The log text of one step."""
        raise Unsupported(f"{self.source.name}: {self.name} has no step logs")

    async def get_spec_results(self, run_id: str, spec: Spec) -> list[TestResult]:
        """The tests of one spec, with errors."""
        raise Unsupported(f"{self.source.name}: {self.name} has no per-test results")

    # -- acting ----------------------------------------------------------------------

    def why_not(self, action: Action, run: Run | None = None) -> str | None:
        """Why `action` cannot apply (to `run`), or None when it can."""
        verb = self.verb(action)
        if action not in self.actions:
            return f"{self.name} has no {verb}"
        if self.read_only:
            return f"{self.source.name} is read-only"
        if action is Action.CANCEL and run is not None and run.status.is_terminal:
            return f"run {run.id} has already finished"
        return None

    def verb(self, action: Action) -> str:
        return self.cancel_verb if action is Action.CANCEL else action.value

    async def cancel(self, run_id: str) -> str | None:
        """Send the cancel. Returns what to tell a person when the API's answer says more
        (or less) than "canceled", e.g. "stop sent: nothing was running"; else None."""
        self.ensure_allowed(Action.CANCEL)
        return await self._cancel(run_id)

    async def rerun(self, run_id: str) -> Run | None:
        """Start the run again; returns the new run when the API says which."""
        self.ensure_allowed(Action.RERUN)
        return await self._rerun(run_id)

    async def delete(self, run_id: str) -> None:
        self.ensure_allowed(Action.DELETE)
        await self._delete(run_id)

    def ensure_allowed(self, action: Action) -> None:
        """Raise Unsupported or ReadOnlyError if `action` cannot be sent; no I/O."""
        if action not in self.actions:
            raise Unsupported(f"{self.source.name}: {self.name} has no {self.verb(action)}")
        if self.read_only:
            raise ReadOnlyError(
                f"{self.source.name}: read-only, {self.verb(action)} was not sent"
            )

    async def _cancel(self, run_id: str) -> str | None:
        raise Unsupported(f"{self.name} has no cancel")

    async def _rerun(self, run_id: str) -> Run | None:
        raise Unsupported(f"{self.name} has no rerun")

    async def _delete(self, run_id: str) -> None:
        raise Unsupported(f"{self.name} has no delete")

    async def aclose(self) -> None:
        await self.client.aclose()
