"""Web links (issue 14): the source's `web_url` template or the provider's default, filled in
with URL-quoted values in one place (runwatch.weblinks), and the `w` and `y` keys that open
or copy them on the runs and run screens."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from runwatch.config import Config, SourceConfig, parse
from runwatch.demo import demo_config
from runwatch.errors import ConfigError
from runwatch.models import Run, RunStatus
from runwatch.tui.screens.help import HelpScreen, help_text
from runwatch.weblinks import WebLinks, has_display, osc52, render
from tui_helpers import PROVIDERS, app_on, loaded, messages, until


def _run(**fields: object) -> Run:
    base: dict[str, object] = {"source": "s", "provider": "services", "id": "r1",
                               "status": RunStatus.PASSED, "provider_status": "SUCCESS"}
    return Run.model_validate({**base, **fields})


def _source(**fields: object) -> SourceConfig:
    return SourceConfig.model_validate({"name": "s", "provider": "services",
                                        "base_url": "https://ci.example.com", **fields})


def test_the_template_is_filled_with_quoted_values() -> None:
    links = WebLinks.for_source(_source(
        web_url="https://ci.example.com/{service_id}/runs/{id}?b={branch}&c={commit}",
        service_id="svc 1"))
    run = _run(id="a/../b", branch="feat/x?y=1#z", commit="abc")
    assert links.url(run) == (
        "https://ci.example.com/svc%201/runs/a%2F..%2Fb?b=feat%2Fx%3Fy%3D1%23z&c=abc")


def test_a_placeholder_without_a_value_gives_no_link() -> None:
    links = WebLinks("https://ci.example.com/{branch}/{id}")
    assert links.url(_run(branch=None)) is None
    assert links.url(_run(branch="main")) == "https://ci.example.com/main/r1"


def test_only_http_links_come_out() -> None:
    assert render("{id}", {"id": "javascript:alert(1)"}) is None  # quoted: no scheme at all
    assert render("https://{id}", {"id": "host"}) == "https://host"


def test_the_currents_default_is_for_its_public_api_only() -> None:
    public = _source(provider="currents", base_url="https://api.currents.dev",
                     project_id="p")
    assert WebLinks.for_source(public).url(_run(id="abc")) == "https://app.currents.dev/run/abc"
    hosted = _source(provider="currents", base_url="http://127.0.0.1:9/currents",
                     project_id="p")
    assert WebLinks.for_source(hosted).url(_run(id="abc")) is None
    # Every other provider has no public web app runwatch knows of.
    for provider, scope in (("services", {}), ("wercker", {"pipeline_id": "p"}),
                            ("conduct", {}), ("scheduler", {})):
        assert WebLinks.for_source(_source(provider=provider, **scope)).template is None


@pytest.mark.parametrize(("template", "problem"), [
    ("https://ci/{nope}", "unknown placeholder {nope}; it takes {id}, {branch}, {commit}, "
                          "{pipeline}, {service_id}"),
    ("https://ci/{id!r}", "takes no format or conversion"),
    ("https://ci/{id:>9}", "takes no format or conversion"),
    ("ftp://ci/{id}", "needs http:// or https://"),
    ("javascript:{id}", "needs http:// or https://"),
    ("https://ci/{id", "is not a template"),
])
def test_a_bad_template_is_a_config_error(template: str, problem: str) -> None:
    raw = {"sources": [{"name": "ci", "provider": "services",
                        "base_url": "https://ci.example.com", "web_url": template}]}
    with pytest.raises(ConfigError) as caught:
        parse(raw, origin="c.toml")
    assert caught.value.message.startswith(f"c.toml: source 'ci': key 'web_url': {template!r} ")
    assert problem in caught.value.message


def test_links_keep_the_identity_of_an_unchanged_list() -> None:
    links = WebLinks("https://ci.example.com/{id}")
    runs = [_run(id="a"), _run(id="b")]
    first = links.runs(runs)
    assert [r.web_url for r in first] == ["https://ci.example.com/a", "https://ci.example.com/b"]
    assert links.runs(runs) is first  # the poller's "same list: nothing to diff"
    again = links.runs([runs[0], _run(id="c")])
    assert again[0] is first[0]  # an unchanged run is the same linked object
    no_template = [_run()]
    assert WebLinks(None).runs(no_template) is no_template


@pytest.mark.parametrize(("env", "platform", "seen"), [
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"DISPLAY": ":0", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "linux", False),
    ({}, "darwin", True),
    ({"SSH_TTY": "/dev/pts/1"}, "darwin", False),
    ({}, "win32", True),
])
def test_has_display(env: dict[str, str], platform: str, seen: bool) -> None:
    assert has_display(env, platform) is seen


def test_osc52_is_the_clipboard_sequence() -> None:
    assert osc52("https://x/1") == "\x1b]52;c;aHR0cHM6Ly94LzE=\x07"


# -- the keys ----------------------------------------------------------------------------


def _app_with_links(sim, **options: object):
    """The app on the simulator, every source; services has a web_url template."""
    template = "https://ci.example.com/runs/{id}"
    config: Config = demo_config(sim.url, interval=60.0)
    sources = [s.model_copy(update={"web_url": template}) if s.provider == "services" else s
               for s in config.sources]
    config = config.model_copy(update={"sources": sources})
    providers = {p: sim.provider(p, web_url=template) if p == "services" else sim.provider(p)
                 for p in PROVIDERS}
    return app_on(sim, config, providers, **options)


async def _select(pilot, source: str) -> Run:
    table = pilot.app.runs_screen.table
    index, key = next((i, k) for i, k in enumerate(table.shown_keys)
                      if table.runs[k].source == source)
    table.move_cursor(row=index)
    await pilot.pause()
    return table.runs[key]


async def test_w_without_a_display_copies_the_web_link(sim, monkeypatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    app = _app_with_links(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        run = await _select(pilot, "services")
        expected = f"https://ci.example.com/runs/{quote(run.id, safe='')}"
        assert run.web_url == expected
        assert app.screen.active_bindings["w"].binding.description == "web"
        await pilot.press("w")
        await until(pilot, lambda: app.clipboard == expected, "the copied link")
        assert f"no display: copied the link (OSC 52): {expected}" in messages(app)


async def test_w_with_a_display_opens_the_browser(sim, monkeypatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    opened: list[str] = []
    monkeypatch.setattr("runwatch.tui.screens.actions.open_in_browser", opened.append)
    app = _app_with_links(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        run = await _select(pilot, "services")
        await pilot.press("w")
        await until(pilot, lambda: opened == [run.web_url], "the browser")
        assert app.clipboard == ""


async def test_w_on_a_run_without_a_web_page_says_so_and_y_copies_its_api_url(sim) -> None:
    app = _app_with_links(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        run = await _select(pilot, "wercker")
        await pilot.press("w")
        await pilot.pause()
        assert ("no web page known for this run: set the source's web_url to open runs in "
                "the browser") in messages(app)
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == run.url
        assert f"copied the run's API URL: {run.url}" in messages(app)


async def test_y_copies_the_web_link_when_there_is_one(sim) -> None:
    app = _app_with_links(sim)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await loaded(pilot)
        run = await _select(pilot, "services")
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == run.web_url
        assert f"copied the run's web link: {run.web_url}" in messages(app)
        # and `?` says so, in the order `y` tries them
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        (line,) = [ln for ln in help_text(app.screen.groups).plain.splitlines()
                   if ln.split()[:1] == ["y"]]
        assert line.split(None, 1)[1] == "copy the run's web link (else API URL, else id)"
