"""A world that keeps changing (runs created and deleted on every poll) leaves the screen
holding only what it shows: the runs table's render caches keep the current rows' renders,
and the footer's recomposes leave no removed keys alive. Sizes, not RSS: the RSS budget is
benchmarks/bench_soak.py --tui."""

from __future__ import annotations

import gc
from collections import deque

import httpx
from textual.widgets._footer import FooterKey

from runwatch.demo import demo_tokens
from tui_helpers import PROVIDERS, loaded, make_app

POLLS = 60


def _detached_footer_keys() -> set[int]:
    gc.collect()
    return {id(o) for o in gc.get_objects() if isinstance(o, FooterKey) and not o.is_attached}


async def test_polls_of_a_changing_world_keep_only_what_is_shown(sim) -> None:
    app = make_app(sim)
    headers = {"Authorization": f"Bearer {demo_tokens()['services']}"}
    created: deque[str] = deque()
    async with app.run_test(size=(160, 45)) as pilot:
        table = await loaded(pilot)
        before = _detached_footer_keys()
        counts: set[int] = set()
        async with httpx.AsyncClient(base_url=sim.base_url("services"), headers=headers) as client:
            for i in range(POLLS):
                name = PROVIDERS[i % len(PROVIDERS)]
                if name == "services":
                    made = await client.post("/api/runs/svc-web", json={})
                    created.append(made.raise_for_status().json()["id"])
                    if len(created) > 3:
                        (await client.delete(f"/api/runs/{created.popleft()}")).raise_for_status()
                sim.sim.clock.advance(20)
                await app.poller.poll_once(name)
                await pilot.pause()
                counts.add(table._update_count)
        await pilot.pause()
        assert len(counts) > POLLS // 5  # rows came and went: the table's update count moved
        # Each cache holds one render per cell / line on screen, not one per poll.
        lines = table.size.height
        # (table.columns: the cursor marker is a column too)
        assert len(table._cell_render_cache) <= lines * len(table.columns)
        assert len(table._row_render_cache) <= lines
        assert len(table._row_renderable_cache) <= lines
        assert len(table._line_cache) <= lines
        assert len(table.runs) == table.row_count  # no run kept that the table dropped
        # The footer recomposed as bindings changed; the keys it removed are gone.
        assert _detached_footer_keys() - before == set()
