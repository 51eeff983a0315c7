"""The scheduler provider against its simulator over real HTTP: the incremental oldest-first
list, details labelled from cached workflow snapshots, cancel and rerun, JWT login, errors.
Odd shapes the simulator never produces go through httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from runwatch.config import SourceConfig
from runwatch.errors import (
    ApiError,
    AuthError,
    BadResponse,
    ConfigError,
    Conflict,
    NotFound,
    ServerError,
)
from runwatch.http import RetryPolicy, SourceClient
from runwatch.models import Run, RunStatus
from runwatch.providers import RunAction
from runwatch.providers.scheduler import (
    MAX_NEW_DEFINITIONS_PER_POLL,
    SchedulerProvider,
    node_progress,
    scheduler_status,
)
from runwatch.session import Refused, Session
from runwatch.sim import Fault
from runwatch.sim.core import iso
from runwatch.sim.scheduler import LOGIN_PASSWORD, LOGIN_USERNAME, NODES, TOKEN_LIFETIME_S

BEARER = "Bearer sim-scheduler-token"
RUNS = "/api/v1/runs"
LABELS = [label for label, _ in NODES]


# -- helpers -------------------------------------------------------------------------------


def api(sim):
    return sim.sim.apis["scheduler"]


def requests(sim, since: int = 0, method: str | None = None):
    return sim.sim.requests_to("scheduler", method)[since:]


def not_definitions(sim, since: int = 0):
    return [r for r in requests(sim, since) if not r.path.endswith("/definition")]


def definition_requests(sim, since: int = 0):
    return [r for r in requests(sim, since) if r.path.endswith("/definition")]


def names(sim) -> dict[str, str]:
    """Each definitionHash of the simulated runs and its workflow's name."""
    return {r.definition.hash: json.loads(r.definition.body)["metadata"]["name"]
            for r in api(sim).runs}


def newest_first(sim) -> list[str]:
    return [r.run_id for r in reversed(api(sim).visible())]


def rendered(sim, run_id: str) -> dict[str, Any]:
    return api(sim).render_run(api(sim).run(run_id), sim.sim.now())


def assert_plain_get(request, path: str, query: str = "") -> None:
    assert (request.method, request.path, request.query) == ("GET", path, query)
    assert request.headers["authorization"] == BEARER
    assert request.headers["accept"] == "application/json"


async def sim_get(sim, path: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.base_url("scheduler"),
                                 headers={"Authorization": BEARER}) as client:
        return await client.get(path, params=params)


def wire_run(run_id: str, status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    return {
        "runId": run_id, "status": status, "definitionHash": "h1", "clientId": "cron",
        "startedAt": "2026-11-22T11:00:00.000Z", "finishedAt": "2026-11-22T11:01:30.000Z",
        "nodes": [{"nodeId": "n1", "taskId": "t1", "status": "succeeded"}],
        **extra,
    }


def mock_provider(
    handler: Callable[[httpx.Request], httpx.Response], *, limit: int = 50, **extra: Any
) -> tuple[SchedulerProvider, list[httpx.Request]]:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    source = SourceConfig(name="sched", provider="scheduler",
                          base_url="https://sched.example.com", **extra)
    client = SourceClient(source="sched", base_url=source.base_url, token="t0k",
                          transport=httpx.MockTransport(record), retry=RetryPolicy.none())
    return SchedulerProvider(source, client, limit=limit), calls


# -- the incremental list ------------------------------------------------------------------


async def test_first_list_reads_every_page_and_returns_newest_first(sim):
    provider = sim.provider("scheduler")
    provider.page_size = 10

    runs = await provider.list_runs()

    assert [r.id for r in runs] == newest_first(sim)
    assert len(runs) == 24
    sent = not_definitions(sim)
    assert len(sent) == 3  # 10 + 10 + a short page of 4
    assert_plain_get(sent[0], RUNS, "limit=10")
    cursors = [re.fullmatch(r"limit=10&cursor=([\w-]+)", r.query).group(1) for r in sent[1:]]
    assert cursors[0] != cursors[1]
    for request in sent:
        assert_plain_get(request, RUNS, request.query)


async def test_list_keeps_only_the_newest_limit_runs(sim):
    provider = sim.provider("scheduler", limit=5)
    provider.page_size = 10

    runs = await provider.list_runs()

    assert [r.id for r in runs] == newest_first(sim)[:5]
    assert len(not_definitions(sim)) == 3  # oldest first: the newest are on the last page


async def test_list_maps_runs_onto_the_normalized_model(sim):
    runs = {r.id: r for r in await sim.provider("scheduler").list_runs()}
    by_status = {s: [r for r in runs.values() if r.provider_status == s]
                 for s in ("succeeded", "failed", "queued")}

    passed = by_status["succeeded"][0]
    body = rendered(sim, passed.id)
    dumped = passed.model_dump(mode="json")
    assert passed.status is RunStatus.PASSED
    assert (passed.source, passed.provider) == ("scheduler", "scheduler")
    assert dumped["started_at"] == body["startedAt"]
    assert dumped["finished_at"] == body["finishedAt"]
    assert dumped["created_at"] == body["startedAt"]  # a Run has no createdAt
    assert passed.duration_s == pytest.approx(
        (passed.finished_at - passed.started_at).total_seconds())
    assert passed.progress == 100.0
    assert passed.url == f"{sim.base_url('scheduler')}{RUNS}/{passed.id}"
    definition = api(sim).run(passed.id).definition
    assert (passed.title, passed.author) == (names(sim)[definition.hash], "data-platform")
    assert (passed.branch, passed.commit, passed.tests) == (None, None, None)

    failed = by_status["failed"][0]
    assert failed.status is RunStatus.FAILED
    # The nodes after the failed one are cancelled, never ran: it got as far as the failure.
    ran = [n for n in body_nodes(sim, failed.id) if n in ("succeeded", "failed")]
    assert failed.progress == round(100 * len(ran) / len(body_nodes(sim, failed.id)), 1) < 100

    queued = by_status["queued"][0]
    assert queued.status is RunStatus.QUEUED
    assert (queued.started_at, queued.created_at, queued.duration_s) == (None, None, None)
    assert queued.progress == 0.0


async def test_client_id_scopes_the_list(sim):
    runs = await sim.provider("scheduler", client_id="cron").list_runs()

    assert_plain_get(requests(sim)[0], RUNS, "clientId=cron&limit=200")
    cron = [r.run_id for r in reversed(api(sim).visible()) if r.client_id == "cron"]
    assert [r.id for r in runs] == cron
    assert 0 < len(cron) < 24


async def test_later_calls_send_the_remembered_cursor_and_refresh_unfinished_runs(sim):
    provider = sim.provider("scheduler")
    provider.page_size = 1  # the last page holds only the newest run
    first = await provider.list_runs()
    last_page = not_definitions(sim)[-1]
    # The real server's last page has `nextCursor: null`: the cursor to come back with is
    # the one that page was read from.
    resume = (await sim_get(sim, RUNS, **dict(httpx.QueryParams(last_page.query)))).json()
    assert resume["nextCursor"] is None and [r["runId"] for r in resume["items"]] == [first[0].id]
    assert not first[0].status.is_terminal
    rerun = await provider.rerun(first[1].id)  # a newer run: the unfinished one is off the page
    await provider.list_runs()

    sim.sim.clock.advance(30)
    mark = len(requests(sim))
    second = await provider.list_runs()

    listing, *rest = not_definitions(sim, mark)
    assert listing.path == RUNS and listing.query.startswith("limit=1&cursor=")
    assert listing.query != last_page.query
    assert [r.path for r in rest] == [f"{RUNS}/{first[0].id}"]
    assert [r.id for r in second] == newest_first(sim)
    assert second[0].id == rerun.id
    assert second[1].provider_status == rendered(sim, first[0].id)["status"] == "running"


async def test_an_unchanged_poll_maps_nothing_again(sim):
    provider = sim.provider("scheduler")
    first = await provider.list_runs()
    second = await provider.list_runs()

    # The walk (one page, `nextCursor: null`) and the two definitions; then that page again,
    # which has the queued run on it, so it needs no refresh of its own.
    assert len(requests(sim)) == 4
    # The same objects, the refreshed run's too: an unchanged body is not parsed again, and
    # the very same list, which the poller does not diff.
    assert second is first


async def test_a_steady_unchanged_poll_walks_no_held_run_until_something_happens(sim):
    provider = sim.provider("scheduler")
    sim.sim.clock.advance(86_400)  # every run finished
    walks: list[int] = []
    unfinished = provider._unfinished

    def counted(exclude: set[str]) -> list[str]:
        walks.append(len(provider._held))
        return unfinished(exclude)

    provider._unfinished = counted  # type: ignore[method-assign]
    first = await provider.list_runs()
    await provider.list_runs()  # the page is as last time: that call finds nothing to do
    mark, walked = len(requests(sim)), len(walks)
    assert await provider.list_runs() is first
    assert await provider.list_runs() is first
    assert len(walks) == walked  # the held runs were not walked again
    assert len(requests(sim)) == mark + 2  # one request a poll
    await provider.get_run(first[0].id)  # the run screen read one: the next call looks
    assert await provider.list_runs() is first
    assert len(walks) == walked + 1


class _NeverQuiet(SchedulerProvider):
    """The provider without its unchanged-poll shortcut: every poll holds its page again."""

    async def list_runs(self) -> list[Run]:
        self._quiet = None
        return await super().list_runs()


@pytest.mark.parametrize("seed", range(3))
async def test_the_unchanged_poll_shortcut_changes_no_request_and_no_run(sim, seed):
    # The shortcut skips holding a page that is the same body as last time when no held run
    # changed since (the `_edits` count): whatever happened between polls (runs moving on,
    # the run screen reading one, even during the poll), the requests and the runs must be
    # those of a provider that holds every page again.
    rng = random.Random(seed)
    limit, page_size = rng.choice([3, 10, 50]), rng.choice([1, 2, 5, 200])
    quick = sim.provider("scheduler", limit=limit)
    plain = sim.provider("scheduler", limit=limit)
    plain.__class__ = _NeverQuiet
    for provider in (quick, plain):
        provider.page_size = page_size
        provider.refresh_per_poll = rng.choice([1, 3, 20])
    shortcuts = 0
    for _ in range(24):
        opened = rng.choice(list(quick._held)) if quick._held and rng.random() < 0.3 else None
        seen, before = [], quick._quiet
        for provider in (quick, plain):
            mark = len(requests(sim))
            polls = [provider.list_runs()] + ([provider.get_run(opened)] if opened else [])
            runs, *_ = await asyncio.gather(*polls)
            seen.append(([(r.method, r.path, r.query) for r in requests(sim, mark)],
                         [(r.id, r.status, r.title, r.progress, r.finished_at) for r in runs]))
        assert seen[0] == seen[1]
        shortcuts += before is not None and quick._quiet is before  # the poll took it
        sim.sim.clock.advance(rng.choice([0, 0, 1, 5, 30, 120]))
        if quick._held and rng.random() < 0.3:  # the run screen, between two polls
            between = rng.choice(list(quick._held))
            assert await quick.get_run(between) == await plain.get_run(between)
    assert shortcuts  # the shortcut was taken: the comparison compares something


async def test_a_last_page_without_cursor_is_read_again_from_its_own_cursor():
    pages = {None: (["a", "b"], "c1"), "c1": (["c"], None)}

    def handler(request: httpx.Request) -> httpx.Response:
        ids, following = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={"items": [wire_run(i) for i in ids],
                                         "nextCursor": following})

    provider, calls = mock_provider(handler)
    provider.page_size = 2
    assert [r.id for r in await provider.list_runs()] == ["c", "b", "a"]

    pages["c1"] = (["c", "d"], None)
    calls.clear()
    assert [r.id for r in await provider.list_runs()] == ["d", "c", "b", "a"]
    assert [c.url.params.get("cursor") for c in calls] == ["c1"]


async def test_paging_that_never_ends_is_bounded_and_duplicates_are_dropped():
    def handler(request: httpx.Request) -> httpx.Response:
        k = int(request.url.params.get("cursor", "0"))
        # Every page repeats the last id of the one before.
        return httpx.Response(200, json={"items": [wire_run(f"r{k}"), wire_run(f"r{k + 1}")],
                                         "nextCursor": str(k + 1)})

    provider, calls = mock_provider(handler, limit=3)
    provider.page_size, provider.max_pages = 2, 5
    provider.max_new_definitions = 0

    runs = await provider.list_runs()

    assert len(calls) == 5
    assert [r.id for r in runs] == ["r5", "r4", "r3"]
    calls.clear()
    await provider.list_runs()
    assert calls[0].url.params["cursor"] == "5"  # the next call goes on from there


async def test_a_failed_poll_keeps_the_cursor_and_the_next_one_recovers(sim):
    provider = sim.provider("scheduler")
    provider.page_size = 10
    await provider.list_runs()
    mark = len(requests(sim))

    sim.sim.inject("scheduler", Fault(kind="500", times=1))
    with pytest.raises(ServerError):
        await provider.list_runs()
    runs = await provider.list_runs()

    failed, recovered = requests(sim, mark)[:2]
    assert failed.query.startswith("limit=10&cursor=")
    assert recovered.query == failed.query
    assert [r.id for r in runs] == newest_first(sim)


async def test_a_held_run_that_vanished_is_dropped():
    state = {"b": wire_run("b", "running")}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == RUNS:
            ids = ["a", "b"] if "cursor" not in request.url.params else []
            items = [state.get(i, wire_run(i)) for i in ids]
            return httpx.Response(200, json={"items": items, "nextCursor": "c" if ids else None})
        return httpx.Response(404, json={"error": "not_found", "message": "Run b not found"})

    provider, calls = mock_provider(handler)
    assert [r.id for r in await provider.list_runs()] == ["b", "a"]
    assert [r.id for r in await provider.list_runs()] == ["a"]
    assert calls[-1].url.path == f"{RUNS}/b"


# -- detail --------------------------------------------------------------------------------


async def test_detail_labels_nodes_from_a_definition_fetched_once_per_hash(sim):
    finished = [r for r in api(sim).visible()
                if rendered(sim, r.run_id)["status"] == "succeeded"]
    a = finished[0]
    b = next(r for r in finished[1:] if r.definition.hash == a.definition.hash)
    provider = sim.provider("scheduler")

    detail = await provider.get_run(a.run_id)
    await provider.get_run(b.run_id)
    again = await provider.get_run(a.run_id)

    sent = requests(sim)
    assert [r.path for r in sent] == [
        f"{RUNS}/{a.run_id}", f"{RUNS}/{a.run_id}/definition", f"{RUNS}/{b.run_id}",
        f"{RUNS}/{a.run_id}"]
    for request in sent:
        assert_plain_get(request, request.path)
    body = rendered(sim, a.run_id)
    assert [s.name for s in detail.steps] == LABELS
    assert [s.id for s in detail.steps] == [n["nodeId"] for n in body["nodes"]]
    assert [s.order for s in detail.steps] == [1, 2, 3, 4, 5]
    assert all(s.status is RunStatus.PASSED and s.provider_status == "succeeded"
               for s in detail.steps)
    first = detail.steps[0]
    assert first.model_dump(mode="json")["started_at"] == body["nodes"][0]["startedAt"]
    assert first.duration_s == pytest.approx(
        (first.finished_at - first.started_at).total_seconds())
    metadata = json.loads(a.definition.body)["metadata"]
    assert (detail.title, detail.author, detail.progress) == (
        metadata["name"], "data-platform", 100.0)
    assert detail.content == metadata["description"]
    assert again == detail


async def test_detail_of_a_failed_run_shows_the_failing_node_and_the_error(sim):
    failed = next(r for r in api(sim).visible() if rendered(sim, r.run_id)["status"] == "failed")
    detail = await sim.provider("scheduler").get_run(failed.run_id)

    statuses = [s.status for s in detail.steps]
    at = statuses.index(RunStatus.FAILED)
    assert statuses[:at] == [RunStatus.PASSED] * at
    assert statuses[at + 1:] == [RunStatus.CANCELED] * (len(statuses) - at - 1)
    assert detail.steps[at].message == "process exited with status 1"
    assert detail.status is RunStatus.FAILED
    assert f"**Error** `node_failed` node {LABELS[at]!r} failed" in detail.content


async def test_the_list_names_its_runs_with_one_definition_request_per_hash(sim):
    provider = sim.provider("scheduler")
    runs = await provider.list_runs()

    hashes = {r.definition.hash for r in api(sim).visible()}
    assert 1 < len(hashes) <= MAX_NEW_DEFINITIONS_PER_POLL
    sent = definition_requests(sim)
    assert len(sent) == len(hashes)
    for request in sent:
        assert_plain_get(request, request.path)
    fetched = {api(sim).run(r.path.split("/")[-2]).definition.hash for r in sent}
    assert fetched == hashes
    for run in runs:
        definition = api(sim).run(run.id).definition
        assert (run.title, run.author) == (names(sim)[definition.hash], "data-platform")

    mark = len(requests(sim))
    await provider.list_runs()
    assert definition_requests(sim, mark) == []
    opened = await provider.get_run(runs[0].id)  # the run screen uses the cached snapshot too
    assert definition_requests(sim, mark) == []
    assert [s.name for s in opened.steps] == LABELS


async def test_the_list_fetches_a_few_new_definitions_a_call(sim):
    workflow = json.loads(api(sim).visible()[0].definition.body)
    async with httpx.AsyncClient(base_url=sim.base_url("scheduler"),
                                 headers={"Authorization": BEARER}) as client:
        for i in range(MAX_NEW_DEFINITIONS_PER_POLL + 1):  # more workflows than a call fetches
            renamed = {**workflow, "metadata": {**workflow["metadata"], "name": f"wf-{i}"}}
            answer = await client.post(RUNS, json={"workflow": renamed, "clientId": "cron"})
            assert answer.status_code == 202
    hashes = {r.definition.hash for r in api(sim).visible()}
    assert len(hashes) == MAX_NEW_DEFINITIONS_PER_POLL + 3
    provider = sim.provider("scheduler")

    counts, untitled = [], []
    for _ in range(4):
        mark = len(requests(sim))
        runs = await provider.list_runs()
        counts.append(len(definition_requests(sim, mark)))
        untitled.append(sum(1 for r in runs if r.title is None))

    cap = MAX_NEW_DEFINITIONS_PER_POLL
    assert counts == [cap, len(hashes) - cap, 0, 0]
    assert untitled[0] > 0 and untitled[2:] == [0, 0]
    assert runs[0].title == f"wf-{MAX_NEW_DEFINITIONS_PER_POLL}"  # the newest are named first
    fetched = [api(sim).run(r.path.split("/")[-2]).definition.hash
               for r in definition_requests(sim)]
    assert sorted(fetched) == sorted(hashes)  # each hash once


def definition_failing(status: int, body: dict[str, Any]):
    """A scheduler whose runs list fine but whose definitions answer `status`."""
    items = [wire_run("a"), wire_run("b", definitionHash="h2"), wire_run("c")]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/definition"):
            return httpx.Response(status, json=body)
        if request.url.path == RUNS:
            first = "cursor" not in request.url.params
            return httpx.Response(200, json={"items": items if first else [],
                                             "nextCursor": "c1" if first else None})
        return httpx.Response(200, json=wire_run(request.url.path.rsplit("/", 1)[-1]))

    return mock_provider(handler)


async def test_a_failing_definition_leaves_titles_empty_and_the_list_intact():
    provider, calls = definition_failing(500, {"error": "internal", "message": "boom"})

    runs = await provider.list_runs()

    assert [(r.id, r.title, r.author) for r in runs] == [
        ("c", None, None), ("b", None, None), ("a", None, None)]
    # The first failure ends this call's fetching; the next call tries again.
    assert [c.url.path for c in calls if c.url.path.endswith("/definition")] == [
        f"{RUNS}/c/definition"]
    calls.clear()
    assert [r.id for r in await provider.list_runs()] == ["c", "b", "a"]
    assert [c.url.path for c in calls if c.url.path.endswith("/definition")] == [
        f"{RUNS}/c/definition"]
    with pytest.raises(ServerError, match="boom"):  # the run screen still reports it
        await provider.get_run("c")


async def test_a_definition_that_is_gone_is_not_asked_again_by_the_list():
    provider, calls = definition_failing(404, {"error": "not_found", "message": "gone"})

    first = await provider.list_runs()
    second = await provider.list_runs()

    assert [c.url.path for c in calls if c.url.path.endswith("/definition")] == [
        f"{RUNS}/c/definition", f"{RUNS}/b/definition"]
    assert second is first
    assert {r.title for r in second} == {None}


async def test_a_title_arriving_later_is_a_change_with_new_run_objects():
    state = {"definition": 500}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/definition"):
            if state["definition"] == 500:
                return httpx.Response(500, json={"error": "internal", "message": "boom"})
            return httpx.Response(200, json={"metadata": {"name": "wf", "ownerName": "me"}})
        first = "cursor" not in request.url.params
        return httpx.Response(200, json={"items": [wire_run("a")] if first else [],
                                         "nextCursor": "c1" if first else None})

    provider, _ = mock_provider(handler)
    untitled = await provider.list_runs()
    assert await provider.list_runs() is untitled

    state["definition"] = 200
    titled = await provider.list_runs()

    assert titled is not untitled and titled[0] is not untitled[0]
    assert (titled[0].title, titled[0].author) == ("wf", "me")
    assert await provider.list_runs() is titled


async def test_a_definition_without_hash_is_revalidated_with_its_etag():
    workflow = {"id": "w", "metadata": {"name": "wf"},
                "nodes": [{"id": "n1", "type": "http.fetch", "label": "Fetch"}]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/definition"):
            if request.headers.get("if-none-match") == 'W/"abc"':
                return httpx.Response(304, headers={"ETag": 'W/"abc"'})
            return httpx.Response(200, json=workflow, headers={"ETag": 'W/"abc"'})
        return httpx.Response(200, json=wire_run("r1", definitionHash=None))

    provider, calls = mock_provider(handler)
    await provider.get_run("r1")
    detail = await provider.get_run("r1")

    definition_calls = [c for c in calls if c.url.path.endswith("/definition")]
    assert [c.headers.get("if-none-match") for c in definition_calls] == [None, 'W/"abc"']
    assert [s.name for s in detail.steps] == ["Fetch"]


async def test_a_run_whose_definition_is_gone_still_shows_its_nodes():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/definition"):
            return httpx.Response(404, json={"error": "not_found", "message": "gone"})
        return httpx.Response(200, json=wire_run("r1"))

    provider, _ = mock_provider(handler)
    detail = await provider.get_run("r1")
    assert [(s.id, s.name) for s in detail.steps] == [("n1", "t1")]
    assert detail.title is None


async def test_unknown_detail_is_not_found_naming_the_run(sim):
    with pytest.raises(NotFound) as caught:
        await sim.provider("scheduler").get_run("no-such-run")
    assert "/api/v1/runs/no-such-run" in str(caught.value)
    assert "Run no-such-run not found" in str(caught.value)


# -- lenient and strict parsing ------------------------------------------------------------


async def test_unknown_values_missing_and_extra_fields_never_crash():
    items = [
        wire_run("odd", "paused", extraField={"x": 1}, nodes=[
            {"nodeId": "n1", "status": "succeeded"}, {"nodeId": "n2", "status": "warming"}]),
        {"runId": 42},  # nothing but an id, and a number at that
        wire_run("nulls", "running", nodes=None, error=None, startedAt="not a time"),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == RUNS:
            return httpx.Response(200, json={"items": items})
        return httpx.Response(200, json=items[0])

    provider, _ = mock_provider(handler)
    runs = {r.id: r for r in await provider.list_runs()}

    assert list(runs) == ["nulls", "42", "odd"]
    assert (runs["odd"].status, runs["odd"].provider_status) == (RunStatus.UNKNOWN, "paused")
    assert runs["odd"].progress == 50.0
    assert (runs["42"].status, runs["42"].provider_status, runs["42"].progress) == (
        RunStatus.UNKNOWN, "", None)
    assert (runs["nulls"].status, runs["nulls"].started_at) == (RunStatus.RUNNING, None)
    detail = await provider.get_run("odd")
    assert [s.status for s in detail.steps] == [RunStatus.PASSED, RunStatus.UNKNOWN]
    assert detail.steps[1].provider_status == "warming"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"nextCursor": "x"},
        {"items": None},
        {"items": [None]},
        {"items": {"runId": "a"}},
        {"items": [{"status": "running"}]},
        {"items": [wire_run("a", nodes=[None])]},
    ],
)
async def test_a_list_of_the_wrong_shape_is_a_bad_response(body):
    provider, _ = mock_provider(lambda _: httpx.Response(200, json=body))
    with pytest.raises(BadResponse) as caught:
        await provider.list_runs()
    assert str(caught.value).startswith("sched: /api/v1/runs returned an unexpected shape")


async def test_a_definition_of_the_wrong_shape_is_a_bad_response():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/definition"):
            return httpx.Response(200, json={"nodes": {"not": "a list"}})
        return httpx.Response(200, json=wire_run("r1"))

    provider, _ = mock_provider(handler)
    with pytest.raises(BadResponse, match="/api/v1/runs/r1/definition returned an unexpected"):
        await provider.get_run("r1")


@pytest.mark.parametrize(
    ("raw", "status"),
    [("queued", RunStatus.QUEUED), ("running", RunStatus.RUNNING),
     ("succeeded", RunStatus.PASSED), ("SUCCEEDED", RunStatus.PASSED),
     ("failed", RunStatus.FAILED), ("cancelled", RunStatus.CANCELED),
     ("canceled", RunStatus.UNKNOWN), (None, RunStatus.UNKNOWN)],
)
def test_status_mapping(raw, status):
    assert scheduler_status(raw) is status


def body_nodes(sim, run_id: str) -> list[str]:
    """The statuses of the run's nodes, as the simulator renders it."""
    return [n["status"] for n in rendered(sim, run_id)["nodes"]]


def test_progress_is_terminal_nodes_over_all_nodes():
    from runwatch.providers.scheduler import WireNode

    nodes = [WireNode(status=s) for s in ("succeeded", "failed", "running", "queued")]
    assert node_progress("running", nodes) == 50.0
    assert node_progress("running", []) is None
    assert node_progress("running", None) is None
    # Once the run failed, only the nodes that ran count: a skipped one did not.
    ended = [WireNode(status=s) for s in ("succeeded", "failed", "skipped", "skipped")]
    assert node_progress("failed", ended) == 50.0
    assert node_progress("running", ended) == 100.0
    assert node_progress("succeeded", ended) == 100.0


# -- cancel --------------------------------------------------------------------------------


async def test_cancel_posts_to_the_run_and_the_next_poll_shows_it_cancelled(sim):
    provider = sim.provider("scheduler")
    queued = next(r for r in await provider.list_runs() if r.status is RunStatus.QUEUED)
    mark = len(requests(sim))

    await provider.cancel(queued.id)

    request = requests(sim, mark)[0]
    assert (request.method, request.path, request.body) == (
        "POST", f"{RUNS}/{queued.id}/cancel", b"")
    assert request.headers["authorization"] == BEARER
    after = next(r for r in await provider.list_runs() if r.id == queued.id)
    assert (after.status, after.provider_status) == (RunStatus.CANCELED, "cancelled")
    detail = await provider.get_run(queued.id)
    assert {s.status for s in detail.steps} == {RunStatus.CANCELED}


async def test_cancelling_a_finished_run_says_so(sim):
    done = next(r for r in api(sim).visible() if rendered(sim, r.run_id)["status"] == "succeeded")
    with pytest.raises(Conflict, match=f"run {done.run_id} had already succeeded"):
        await sim.provider("scheduler").cancel(done.run_id)


async def test_cancelling_an_unknown_run_is_not_found(sim):
    with pytest.raises(NotFound, match="Run nope not found"):
        await sim.provider("scheduler").cancel("nope")


async def test_read_only_refuses_cancel_and_rerun_before_any_request(sim):
    session = Session({"scheduler": sim.provider("scheduler", read_only=True)})
    run = Run(source="scheduler", provider="scheduler", id=api(sim).visible()[-1].run_id,
              status=RunStatus.RUNNING, provider_status="Running")
    with pytest.raises(Refused, match="scheduler is read-only"):
        await session.perform(RunAction.CANCEL, run)
    with pytest.raises(Refused, match="scheduler is read-only"):
        await session.perform(RunAction.RERUN, run)
    assert requests(sim) == []


# -- rerun ---------------------------------------------------------------------------------


async def test_rerun_posts_the_runs_definition_with_an_idempotency_key(sim):
    provider = sim.provider("scheduler")
    old = api(sim).visible()[0]

    new = await provider.rerun(old.run_id)

    post = requests(sim, method="POST")[0]
    assert (post.path, post.headers["content-type"]) == (RUNS, "application/json")
    assert post.headers["authorization"] == BEARER
    assert post.json() == {"workflow": json.loads(old.definition.body),
                           "clientId": old.client_id}
    assert re.fullmatch(r"runwatch-rerun-[0-9a-f]{40}", post.headers["idempotency-key"])
    now = datetime.fromtimestamp(sim.sim.now(), UTC)
    assert new is not None and new.id == api(sim).visible()[-1].run_id
    assert (new.status, new.created_at, new.started_at) == (RunStatus.QUEUED, now, None)

    listed = (await provider.list_runs())[0]
    assert (listed.id, listed.status, listed.created_at) == (new.id, RunStatus.QUEUED, now)
    assert api(sim).run(new.id).definition is old.definition  # same snapshot, same hash


async def test_rerun_after_an_unknown_outcome_reuses_its_idempotency_key(sim):
    provider = sim.provider("scheduler")
    run_id = (await provider.list_runs())[-1].id
    await provider.get_run(run_id)  # the run and its definition are known: a rerun only POSTs
    before = len(api(sim).runs)

    sim.sim.inject("scheduler", Fault(kind="500", times=1))
    with pytest.raises(ServerError):
        await provider.rerun(run_id)
    await provider.rerun(run_id)
    await provider.rerun(run_id)

    keys = [r.headers["idempotency-key"] for r in requests(sim, method="POST")]
    assert len(keys) == 3
    assert keys[0] == keys[1] != keys[2]
    assert len(api(sim).runs) == before + 2


async def test_a_refused_rerun_drops_its_key():
    answers = iter([
        httpx.Response(409, json={"error": "conflict", "message": "key reused"}),
        httpx.Response(202, json={"runId": "new", "status": "queued",
                                  "createdAt": "2026-11-22T12:00:00.000Z"}),
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return next(answers)
        if request.url.path.endswith("/definition"):
            return httpx.Response(200, json={"nodes": [{"id": "n1"}]})
        return httpx.Response(200, json=wire_run("r1"))

    provider, calls = mock_provider(handler)
    with pytest.raises(Conflict, match="key reused"):
        await provider.rerun("r1")
    new = await provider.rerun("r1")

    keys = [c.headers["idempotency-key"] for c in calls if c.method == "POST"]
    assert keys[0] != keys[1]
    assert json.loads(calls[-1].content) == {"workflow": {"nodes": [{"id": "n1"}]},
                                             "clientId": "cron"}
    assert (new.id, new.created_at) == ("new", datetime(2026, 11, 22, 12, tzinfo=UTC))


# -- auth ----------------------------------------------------------------------------------


async def test_no_token_and_no_login_is_an_auth_error(sim):
    with pytest.raises(AuthError, match="no token configured"):
        await sim.provider("scheduler", token="").list_runs()
    assert "authorization" not in requests(sim)[0].headers


@pytest.fixture
def password(monkeypatch) -> str:
    monkeypatch.setenv("SCHED_PW", LOGIN_PASSWORD)
    return "SCHED_PW"


async def test_login_before_the_first_request_even_when_read_only(sim, password):
    provider = sim.provider("scheduler", token="", read_only=True,
                            username=LOGIN_USERNAME, password_env=password)

    runs = await provider.list_runs()

    login, listing, *definitions = requests(sim)
    assert len(definitions) == 2
    assert (login.method, login.path) == ("POST", "/api/v1/auth/login")
    assert login.json() == {"username": LOGIN_USERNAME, "password": LOGIN_PASSWORD}
    assert "authorization" not in login.headers
    assert_plain_get(listing, RUNS, "limit=200")
    assert len(runs) == 24


async def test_login_again_after_a_401(sim, password):
    provider = sim.provider("scheduler", token="", username=LOGIN_USERNAME,
                            password_env=password)
    await provider.list_runs()
    sim.sim.settings.tokens["scheduler"] = "rotated"
    mark = len(requests(sim))

    await provider.list_runs()

    rejected, login, retried = requests(sim, mark)[:3]
    assert (rejected.path, rejected.headers["authorization"]) == (RUNS, BEARER)
    assert login.path == "/api/v1/auth/login"
    assert (retried.path, retried.headers["authorization"]) == (RUNS, "Bearer rotated")
    assert retried.query == rejected.query


async def test_login_again_when_the_token_expires(sim, password):
    provider = sim.provider("scheduler", token="", username=LOGIN_USERNAME,
                            password_env=password)
    clock = [1000.0]
    provider.clock = lambda: clock[0]
    await provider.list_runs()
    await provider.list_runs()
    assert len(requests(sim, method="POST")) == 1

    clock[0] += TOKEN_LIFETIME_S
    mark = len(requests(sim))
    await provider.list_runs()

    assert requests(sim, mark)[0].path == "/api/v1/auth/login"
    assert len(requests(sim, method="POST")) == 2


async def test_a_refused_login_names_the_user_and_the_password_origin(sim, monkeypatch):
    monkeypatch.setenv("SCHED_PW", "not-it")
    provider = sim.provider("scheduler", token="", username=LOGIN_USERNAME,
                            password_env="SCHED_PW")
    with pytest.raises(AuthError) as caught:
        await provider.list_runs()
    message = str(caught.value)
    assert message == ("scheduler: login as 'runwatch' refused (password from env SCHED_PW): "
                       "HTTP 401 Unauthorized: invalid username or password")
    assert [r.path for r in requests(sim)] == ["/api/v1/auth/login"]


async def test_a_login_without_a_password_source_is_a_config_error(sim):
    provider = sim.provider("scheduler", token="", username=LOGIN_USERNAME)
    with pytest.raises(ConfigError, match="password_env or password_cmd"):
        await provider.list_runs()
    assert requests(sim) == []


async def test_a_configured_token_wins_over_a_login(sim, password):
    provider = sim.provider("scheduler", username=LOGIN_USERNAME, password_env=password)
    await provider.list_runs()
    assert {r.method for r in requests(sim)} == {"GET"}


# -- transport and server errors -----------------------------------------------------------


async def test_a_fastapi_validation_error_is_reported_with_its_message(sim):
    provider = sim.provider("scheduler")
    provider.page_size = 500
    with pytest.raises(ApiError, match="Input should be less than or equal to 200"):
        await provider.list_runs()


# -- the simulator itself ------------------------------------------------------------------


async def test_sim_lists_oldest_first_with_a_resumable_cursor(sim):
    first = (await sim_get(sim, RUNS, limit=20)).json()
    rest = (await sim_get(sim, RUNS, limit=20, cursor=first["nextCursor"])).json()
    exact = (await sim_get(sim, RUNS, limit=24)).json()

    ids = [r["runId"] for r in first["items"] + rest["items"]]
    assert ids == [r.run_id for r in api(sim).visible()]
    assert rest["nextCursor"] is None  # the last page, as the real server says it
    assert len(exact["items"]) == 24 and exact["nextCursor"] is None
    assert "createdAt" not in first["items"][0]


@pytest.mark.parametrize(
    ("params", "status", "body_check"),
    [
        ({"limit": 0}, 422, lambda b: b["detail"][0]["loc"] == ["query", "limit"]),
        ({"limit": "many"}, 422, lambda b: b["detail"][0]["type"] == "int_parsing"),
        ({"limit": 201}, 422, lambda b: b["detail"][0]["type"] == "less_than_equal"),
    ],
)
async def test_sim_rejects_bad_queries_in_the_apis_shapes(sim, params, status, body_check):
    response = await sim_get(sim, RUNS, **params)
    assert response.status_code == status
    assert body_check(response.json())


async def test_sim_definition_has_a_weak_etag_and_answers_304(sim):
    run = api(sim).visible()[0]
    path = f"{RUNS}/{run.run_id}/definition"
    first = await sim_get(sim, path)
    assert first.headers["etag"] == f'W/"{run.definition.hash}"'
    async with httpx.AsyncClient(base_url=sim.base_url("scheduler")) as client:
        again = await client.get(path, headers={"Authorization": BEARER,
                                                "If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


async def test_sim_start_run_is_idempotent_per_key(sim):
    run = api(sim).visible()[0]
    body = {"workflow": json.loads(run.definition.body), "clientId": "cron"}
    async with httpx.AsyncClient(base_url=sim.base_url("scheduler"),
                                 headers={"Authorization": BEARER}) as client:
        one = await client.post(RUNS, json=body, headers={"Idempotency-Key": "k1"})
        two = await client.post(RUNS, json=body, headers={"Idempotency-Key": "k1"})
        other = await client.post(RUNS, json={**body, "clientId": "web-console"},
                                  headers={"Idempotency-Key": "k1"})
        long_key = await client.post(RUNS, json=body, headers={"Idempotency-Key": "k" * 65})
        no_nodes = await client.post(RUNS, json={"workflow": {"nodes": []}, "clientId": "x"})
        missing = await client.post(RUNS, json={"workflow": body["workflow"]})

    assert one.status_code == two.status_code == 202
    assert one.json() == two.json()
    assert one.json()["createdAt"] == iso(sim.sim.now())
    assert (other.status_code, other.json()["detail"]["error"]) == (409, "conflict")
    assert (long_key.status_code, long_key.json()["detail"][0]["loc"]) == (
        422, ["header", "idempotency-key"])
    assert (no_nodes.status_code, no_nodes.json()["detail"]["error"]) == (400, "bad_request")
    assert (missing.status_code, missing.json()["detail"][0]["loc"]) == (
        422, ["body", "clientId"])


async def test_sim_runs_progress_with_the_clock(sim):
    newest = api(sim).visible()[-1].run_id
    seen = []
    for _ in range(12):
        seen.append(rendered(sim, newest)["status"])
        sim.sim.clock.advance(20)
    assert seen[0] == "queued"
    assert "running" in seen
    assert seen[-1] in ("succeeded", "failed")


def test_sim_is_deterministic_for_a_seed():
    from runwatch.sim import SimClock, SimSettings, Simulator

    def bodies() -> list[dict[str, Any]]:
        world = Simulator(SimSettings(seed=3), SimClock(frozen=True)).apis["scheduler"]
        return [world.render_run(r, world.sim.now()) for r in world.visible()]

    assert bodies() == bodies()


# -- issue 9: what the real server does (skipped nodes, null cursor, FastAPI errors, login) --


def skipping_run(sim):
    """A succeeded run of the simulator whose last node the server skipped."""
    return next(r for r in reversed(api(sim).visible())
                if r.skips and rendered(sim, r.run_id)["status"] == "succeeded")


async def test_a_succeeded_run_with_a_skipped_node_is_passed_at_100_percent(sim):
    run = skipping_run(sim)
    body = rendered(sim, run.run_id)
    # As the server sends it: `skipped` (not in the OpenAPI enum), no worker, no times.
    assert body["nodes"][-1] == {"nodeId": run.definition.node_ids[-1],
                                 "taskId": f"{run.run_id[:8]}-5", "status": "skipped"}
    provider = sim.provider("scheduler")

    listed = {r.id: r for r in await provider.list_runs()}[run.run_id]
    detail = await provider.get_run(run.run_id)

    assert (listed.status, listed.progress) == (RunStatus.PASSED, 100.0)
    assert (detail.status, detail.progress) == (RunStatus.PASSED, 100.0)
    last = detail.steps[-1]
    assert (last.name, last.status, last.provider_status) == ("Notify", RunStatus.SKIPPED,
                                                              "skipped")
    assert (last.started_at, last.duration_s) == (None, None)
    assert all(s.status is RunStatus.PASSED for s in detail.steps[:-1])
    mark_detail = [r for r in requests(sim) if r.path == f"{RUNS}/{run.run_id}"]
    assert len(mark_detail) == 1
    assert_plain_get(mark_detail[0], f"{RUNS}/{run.run_id}")
    assert node_progress("succeeded", None) == 100.0
    assert scheduler_status("SKIPPED") is RunStatus.SKIPPED


async def test_the_last_page_has_a_null_cursor_and_is_read_again_from_its_own(sim):
    provider = sim.provider("scheduler")
    provider.page_size = 10
    await provider.list_runs()
    walk = not_definitions(sim)
    last = (await sim_get(sim, RUNS, **dict(httpx.QueryParams(walk[-1].query)))).json()
    assert (len(last["items"]), last["nextCursor"]) == (4, None)

    mark = len(requests(sim))
    runs = await provider.list_runs()

    again = not_definitions(sim, mark)
    assert_plain_get(again[0], RUNS, walk[-1].query)
    assert len(again) == 1  # the unfinished run was on that page: no refresh by id
    assert [r.id for r in runs] == newest_first(sim)


async def test_an_unknown_cursor_after_a_restart_starts_from_the_oldest_and_heals(sim):
    provider = sim.provider("scheduler", limit=8)
    provider.page_size = 5
    first = await provider.list_runs()
    assert [r.id for r in first] == newest_first(sim)[:8]
    old_cursor = not_definitions(sim)[-1].query

    api(sim).restart()  # the server forgets the cursors it handed out
    rerun = await provider.rerun(first[3].id)  # and a new run arrives
    mark = len(requests(sim))
    runs = await provider.list_runs()

    walk = [r for r in not_definitions(sim, mark) if r.path == RUNS]
    assert walk[0].query == old_cursor  # sent, unknown: the server starts from the oldest
    restarted = (await sim_get(sim, RUNS, **dict(httpx.QueryParams(old_cursor)))).json()
    assert restarted["items"][0]["runId"] == api(sim).visible()[0].run_id
    assert len(walk) == 25 // 5  # the walk to the end again, from the oldest
    ids = [r.id for r in runs]
    assert ids == newest_first(sim)[:8] and ids[0] == rerun.id
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {"detail": "Not authenticated"}, AuthError,
         "HTTP 401 Unauthorized: Not authenticated"),
        (404, {"detail": {"error": "not_found", "message": "Run r1 not found"}}, NotFound,
         "Run r1 not found"),
        (409, {"detail": {"error": "conflict", "message": "run is finished"}}, Conflict,
         "HTTP 409 Conflict: run is finished"),
        (422, {"detail": [{"type": "missing", "loc": ["query", "x"], "msg": "Field required",
                           "input": None}]}, ApiError,
         "HTTP 422 Unprocessable Entity: Field required"),
    ],
)
async def test_fastapi_detail_bodies_of_every_shape_give_the_servers_words(status, body, error,
                                                                            words):
    provider, calls = mock_provider(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error) as caught:
        await provider.get_run("r1")
    assert words in str(caught.value) and str(caught.value).startswith("sched: ")
    assert [(c.method, c.url.path) for c in calls] == [("GET", f"{RUNS}/r1")]


async def test_the_simulator_answers_in_fastapi_detail_shapes(sim):
    async with httpx.AsyncClient(base_url=sim.base_url("scheduler")) as client:
        no_token = await client.get(RUNS)
        missing = await client.get(f"{RUNS}/nope", headers={"Authorization": BEARER})
        bad = await client.get(RUNS, params={"limit": 0}, headers={"Authorization": BEARER})
        login = await client.post("/api/v1/auth/login", json={"username": LOGIN_USERNAME,
                                                              "password": LOGIN_PASSWORD})
        refused = await client.post("/api/v1/auth/login", json={"username": LOGIN_USERNAME,
                                                                "password": "no"})
    assert (no_token.status_code, no_token.json()) == (
        401, {"detail": "Authentication required or credentials invalid"})
    assert (missing.status_code, missing.json()) == (
        404, {"detail": {"error": "not_found", "message": "Run nope not found"}})
    assert isinstance(bad.json()["detail"], list)
    assert refused.json() == {"detail": {"error": "unauthorized",
                                         "message": "invalid username or password"}}
    answer = login.json()
    assert set(answer) == {"accessToken", "tokenType", "expiresIn", "user"}
    assert (answer["tokenType"], answer["expiresIn"]) == ("Bearer", TOKEN_LIFETIME_S)


async def test_a_configured_token_that_is_not_ascii_is_an_auth_error_before_any_request(sim):
    provider = sim.provider("scheduler", token="jwt-\u00f6")
    with pytest.raises(AuthError) as caught:
        await provider.list_runs()
    message = str(caught.value)
    assert message.startswith("scheduler: the token from")
    assert "cannot be sent in a header" in message
    assert "\u00f6" not in message
    assert requests(sim) == []


async def test_a_login_token_that_is_not_ascii_is_an_auth_error_naming_the_source(sim, password):
    sim.sim.settings.tokens["scheduler"] = "jwt-\u2603"  # what the login answers
    provider = sim.provider("scheduler", token="", username=LOGIN_USERNAME,
                            password_env=password)
    with pytest.raises(AuthError) as caught:
        await provider.list_runs()
    assert str(caught.value) == ("scheduler: the token from login as 'runwatch' cannot be sent "
                                 "in a header (it has characters that are not printable ASCII)")
    assert [(r.method, r.path) for r in requests(sim)] == [("POST", "/api/v1/auth/login")]


async def test_a_401_right_after_logging_in_is_retried_once_only(password):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/v1/auth/login"):
            return httpx.Response(200, json={"accessToken": "t1", "tokenType": "Bearer",
                                             "expiresIn": 3600, "user": {"username": "u"}})
        return httpx.Response(401, json={"detail": "Token revoked"})

    calls: list[httpx.Request] = []
    source = SourceConfig(name="sched", provider="scheduler", base_url="https://s.example/x",
                          username="u", password_env=password)
    client = SourceClient(source="sched", base_url=source.base_url, retry=RetryPolicy.none(),
                          transport=httpx.MockTransport(lambda r: calls.append(r) or handler(r)))
    provider = SchedulerProvider(source, client)

    with pytest.raises(AuthError) as caught:
        await provider.get_run("r1")

    assert str(caught.value) == ("sched: the token from login as 'u' was refused right after "
                                 "logging in: HTTP 401 Unauthorized: Token revoked")
    assert [(c.method, str(c.url), c.headers.get("authorization")) for c in calls] == [
        ("POST", "https://s.example/x/api/v1/auth/login", None),
        ("GET", f"https://s.example/x{RUNS}/r1", "Bearer t1"),
        ("POST", "https://s.example/x/api/v1/auth/login", None),
        ("GET", f"https://s.example/x{RUNS}/r1", "Bearer t1"),
    ]
    assert json.loads(calls[0].content) == {"username": "u", "password": LOGIN_PASSWORD}


async def test_rerun_idempotency_keys_fit_the_servers_64_characters(sim):
    provider = sim.provider("scheduler")
    run_id = api(sim).visible()[0].run_id
    await provider.rerun(run_id)
    key = requests(sim, method="POST")[-1].headers["idempotency-key"]
    assert 0 < len(key) <= 64


async def test_a_login_answer_far_larger_than_a_token_is_refused(password):
    # A login answer is a few hundred bytes; an endless one must not fill the memory.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"accessToken": "' + b"x" * 200_000 + b'"}')

    source = SourceConfig(name="sched", provider="scheduler", base_url="https://s.example/x",
                          username="u", password_env=password)
    client = SourceClient(source="sched", base_url=source.base_url, retry=RetryPolicy.none(),
                          transport=httpx.MockTransport(handler))
    provider = SchedulerProvider(source, client)
    with pytest.raises(BadResponse) as caught:
        await provider.list_runs()
    assert str(caught.value) == "sched: /api/v1/auth/login answered more than 65536 bytes"
    await provider.aclose()


async def test_one_bad_timestamp_costs_that_field_not_the_list():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/runs":
            items = [wire_run("r1", startedAt="2025-12-08T...", finishedAt="yesterday"),
                     wire_run("r2", status="running", finishedAt=None,
                              startedAt="9999-12-31T23:59:59-01:00")]
            return httpx.Response(200, json={"items": items, "nextCursor": None})
        return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no"}})

    provider, _ = mock_provider(handler)
    runs = {run.id: run for run in await provider.list_runs()}
    assert set(runs) == {"r1", "r2"}
    assert runs["r1"].started_at is None and runs["r1"].finished_at is None
    assert runs["r1"].status is RunStatus.PASSED
    assert runs["r2"].started_at is None  # year 10000 in UTC: not a time, only that field
    assert runs["r2"].status is RunStatus.RUNNING
