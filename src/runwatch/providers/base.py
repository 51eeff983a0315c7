"""The Provider contract every API module implements, and the table of the actions each one
can send (runwatch.session decides whether one may be sent)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from runwatch.config import SourceConfig
from runwatch.errors import Unsupported
from runwatch.http import SourceClient
from runwatch.models import Run, RunDetail, Spec, Step, TestResult


class RunAction(StrEnum):
    """A mutating action on a run."""

    CANCEL = "cancel"
    RERUN = "rerun"
    DELETE = "delete"


@dataclass(frozen=True)
class Sent:
    """What an API answered to an action: its own words for the outcome, or the run it
    started (a rerun), when it says."""

    said: str | None = None
    new_run: Run | None = None


class Provider(ABC):
    """One configured source speaking one runs API.

    Subclasses implement the `_`-prefixed mutating hooks for the actions they list in
    `actions`; `action_table` maps each of those to the call that sends it.
    """

    name: ClassVar[str]
    actions: ClassVar[frozenset[RunAction]] = frozenset()
    # What the cancel action is called in this API's own words (Wercker: "abort").
    cancel_verb: ClassVar[str] = "cancel"
    has_logs: ClassVar[bool] = False
    # Whether get_log marks the lines the API says went to stderr (models.STDERR_MARK).
    marks_stderr: ClassVar[bool] = False
    has_spec_results: ClassVar[bool] = False
    # The API has no canceled state: a run it was asked to stop ends as a failure
    # (services). The session then shows the run it stopped as canceled.
    stop_reads_as_failure: ClassVar[bool] = False

    def __init__(self, source: SourceConfig, client: SourceClient, *, limit: int = 50) -> None:
        self.source = source
        self.client = client
        self.limit = limit
        # Told the runs read so far while a list that takes several requests loads (a first
        # page, runs before their titles): the poller shows them at once.
        self.on_partial: Callable[[list[Run]], None] | None = None

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
    # Whether an action may be sent is decided by runwatch.session.Session.refusal, the one
    # gate; the client's read-only refusal (runwatch.http) is the last line under it.

    def verb(self, action: RunAction) -> str:
        """The action in this API's own words."""
        return self.cancel_verb if action is RunAction.CANCEL else action.value

    def action_table(self) -> dict[RunAction, Callable[[str], Awaitable[Sent]]]:
        """The call that sends each action this provider has, by action."""
        calls: dict[RunAction, Callable[[str], Awaitable[Sent]]] = {
            RunAction.CANCEL: self._send_cancel,
            RunAction.RERUN: self._send_rerun,
            RunAction.DELETE: self._send_delete,
        }
        return {action: calls[action] for action in self.actions}

    async def cancel(self, run_id: str) -> str | None:
        """Send the cancel. Returns what to tell a person when the API's answer says more
        (or less) than "canceled", e.g. "stop sent: nothing was running"; else None."""
        return await self._cancel(run_id)

    async def rerun(self, run_id: str) -> Run | None:
        """Start the run again; returns the new run when the API says which."""
        return await self._rerun(run_id)

    async def delete(self, run_id: str) -> None:
        await self._delete(run_id)

    async def _send_cancel(self, run_id: str) -> Sent:
        return Sent(said=await self.cancel(run_id))

    async def _send_rerun(self, run_id: str) -> Sent:
        return Sent(new_run=await self.rerun(run_id))

    async def _send_delete(self, run_id: str) -> Sent:
        await self.delete(run_id)
        return Sent()

    async def _cancel(self, run_id: str) -> str | None:
        raise Unsupported(f"{self.name} has no cancel")

    async def _rerun(self, run_id: str) -> Run | None:
        raise Unsupported(f"{self.name} has no rerun")

    async def _delete(self, run_id: str) -> None:
        raise Unsupported(f"{self.name} has no delete")

    async def aclose(self) -> None:
        await self.client.aclose()
