"""Currents REST API v1: Cypress and Playwright runs of one project (`currents-v1.md`).

    GET    /v1/projects/{project_id}/runs?limit=&starting_after=   newest first, cursor paging
    GET    /v1/runs/{id}                                           groups and spec files
    GET    /v1/instances/{instance_id}                             one spec file's tests
    PUT    /v1/runs/{id}/cancel                                    422: already cancelled
    DELETE /v1/runs/{id}

Every body is an envelope, `{"status": "OK", "data": ...}` (lists add `has_more`), and errors
are `{"status": "FAILED", "error": ...}`. Cypress and Playwright runs differ in detail (which
counters a group or spec reports, where the platform is): both parse into the same models.

Modules: `wire` (the bodies), `mapping` (to the normalized model), `provider`.
"""

from runwatch.providers.currents.mapping import (
    cancellation_of,
    error_of,
    progress_of,
    run_status,
    spec_status,
    to_spec,
    to_test_result,
)
from runwatch.providers.currents.provider import PAGE_SIZE, CurrentsProvider
from runwatch.providers.currents.wire import RunWire, SpecWire, TestWire

__all__ = [
    "PAGE_SIZE",
    "CurrentsProvider",
    "RunWire",
    "SpecWire",
    "TestWire",
    "cancellation_of",
    "error_of",
    "progress_of",
    "run_status",
    "spec_status",
    "to_spec",
    "to_test_result",
]
