"""The kiosk shows a held red track large (issue 16, point 7): while the hold is on, a bold
band above the runs names the failing track with its "red for … since <commit> by <author>";
it goes when the hold ends. Snapshots at 80x24 and 200x50."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static

from runwatch.config import KioskConfig
from runwatch.demo import demo_config
from runwatch.formatting import format_span
from runwatch.models import Run, RunStatus
from runwatch.poller import RunsChanged
from runwatch.tui.widgets.trend import merged
from test_trend import red_track_run
from tui_helpers import make_app, until


def make_kiosk(sim, *, blame: bool = True):  # type: ignore[no-untyped-def]
    config = demo_config(sim.url, interval=60.0)
    config = config.model_copy(update={"kiosk": KioskConfig(rotate=20.0, hold=120.0,
                                                            blame=blame)})
    return make_app(sim, config=config, kiosk=True)


async def turn_red(pilot: Pilot) -> Run:
    """A simulated red track's newest run is seen running, then failed: the kiosk holds."""
    app = pilot.app
    await until(pilot, lambda: all(app.poller.health(s).state == "ok"
                                   for s in app.session.sources), "the first polls")
    run = red_track_run(app)
    running = run.model_copy(update={"status": RunStatus.RUNNING})
    app.runs_signal.publish(RunsChanged(run.source, (running,), ()))  # type: ignore[attr-defined]
    app.runs_signal.publish(RunsChanged(run.source, (run,), ()))  # type: ignore[attr-defined]
    banner = app.screen.query_one("#kiosk-banner", Static)
    await until(pilot, lambda: bool(banner.display), "the held red track's banner")
    return run


async def test_the_held_red_track_is_shown_large_with_its_red_for(sim) -> None:
    app = make_kiosk(sim)
    async with app.run_test(size=(200, 50)) as pilot:
        banner = app.screen.query_one("#kiosk-banner", Static)
        await until(pilot, lambda: all(app.poller.health(s).state == "ok"
                                       for s in app.session.sources), "the first polls")
        assert not banner.display  # nothing turned red while watched: no banner
        run = await turn_red(pilot)
        assert app.screen.source == run.source and banner.display
        red = merged(run.track, app.poller.runs(run.source).values()).red_since
        assert red is not None and red.commit and red.author
        began = red.finished_at or red.created_at
        assert began is not None
        name = " · ".join(p for p in run.track if p)
        assert str(banner.content) == (f"✗ {name}  red for {format_span(app.now() - began)} "
                                       f"since {red.commit[:7]} by {red.author}")
        assert banner.region.height == 3 and banner.region.width == 200  # large: a band
        sim.sim.clock.advance(121)  # the hold is over: rotation and no banner
        # The 1 s tick ends the hold; waiting on it, not on a fixed pause, holds under load.
        await until(pilot, lambda: not banner.display, "the hold's end")


async def test_blame_off_leaves_the_author_out_of_the_banner(sim) -> None:
    app = make_kiosk(sim, blame=False)
    async with app.run_test(size=(80, 24)) as pilot:
        run = await turn_red(pilot)
        banner = app.screen.query_one("#kiosk-banner", Static)
        red = merged(run.track, app.poller.runs(run.source).values()).red_since
        assert red is not None and red.author
        assert banner.display and " by " not in str(banner.content)
        assert str(banner.content).endswith(f"since {red.commit[:7]}")  # type: ignore[index]


def test_snapshot_kiosk_banner_80x24(sim, snap_compare) -> None:
    assert snap_compare(make_kiosk(sim), terminal_size=(80, 24), run_before=turn_red)


def test_snapshot_kiosk_banner_200x50(sim, snap_compare) -> None:
    assert snap_compare(make_kiosk(sim), terminal_size=(200, 50), run_before=turn_red)
