"""What the dashboard says at start about its config: an unknown theme and a colour Textual
cannot parse are warned about on screen (as `runwatch config check` reports them), and the
demo's notice reads as plain words."""

from __future__ import annotations

from pathlib import Path

import tomli_w
from textual.widgets._toast import Toast

from conftest import SCOPES
from runwatch.config import Config, load
from runwatch.tui.app import NO_CONFIG_NOTICE
from tui_helpers import PROVIDERS, loaded, make_app


def _toasts(app) -> list[str]:
    """The text of every toast on screen, as rendered (markup already applied)."""
    return [str(toast.render()) for toast in app.screen.query(Toast)]


def _config(sim, path: Path, *, theme: str, colour: str | None) -> Config:
    """A config file for the simulator's five sources; wercker in `colour`."""
    sources = []
    for p in PROVIDERS:
        fields = {"name": p, "provider": p, "base_url": sim.base_url(p), **SCOPES[p]}
        if p == "wercker" and colour:
            fields["color"] = colour
        sources.append(fields)
    path.write_text(tomli_w.dumps({"runwatch": {"interval": 60.0, "theme": theme},
                                   "sources": sources}))
    path.chmod(0o600)
    return load(path)


async def test_an_unknown_theme_and_a_bad_colour_are_warned_about_at_start(
    sim, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    app = make_app(sim, config=_config(sim, path, theme="runwatch-drak", colour="rde"))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        toasts = "\n".join(_toasts(app))
        assert app.theme == "runwatch-dark"  # the default stands in, and the screen says why
        flat = " ".join(toasts.split())
        assert (f"{path}: [runwatch]: key 'theme': 'runwatch-drak' is not an "
                "installed theme; did you mean 'runwatch-dark'?") in flat
        assert (f"{path}: source 'wercker': key 'color': 'rde' is not a colour "
                "(a name such as 'red', or '#rrggbb'); did you mean 'red'?") in flat


async def test_a_good_config_starts_without_warnings(sim, tmp_path: Path) -> None:
    config = _config(sim, tmp_path / "config.toml", theme="runwatch-light", colour="crimson")
    app = make_app(sim, config=config)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        assert app.theme == "runwatch-light"
        assert _toasts(app) == []


async def test_the_demo_notice_is_plain_words(sim) -> None:
    app = make_app(sim, read_only=True, demo=True, no_config=True)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        shown = " ".join(" ".join(_toasts(app)).split())
        assert " ".join(NO_CONFIG_NOTICE.split()) in shown
        assert "`" not in shown
        assert "runwatch config init" in shown
