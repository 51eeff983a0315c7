"""Theme files: the packaged four load, validate and apply; broken files are reported in one
line and skipped; the user folder adds (and overrides) themes."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.color import Color
from textual.theme import Theme

from runwatch.paths import user_theme_dir
from runwatch.tui import themes as themes_module
from runwatch.tui.look import STATUS_VARIABLE_DEFAULTS
from runwatch.tui.themes import (
    DEFAULT_THEME,
    STATUS_VARIABLES,
    load_theme_file,
    load_themes,
    packaged_theme_dirs,
)

PACKAGED = {"runwatch-dark", "runwatch-light", "runwatch-contrast", "runwatch-ansi"}
COLOUR_FIELDS = ("primary", "secondary", "accent", "foreground", "background", "surface",
                 "panel", "boost", "success", "warning", "error")

GOOD = """\
name = "{name}"
primary = "#336699"
background = "#101010"

[variables]
run-failed = "#ff0000"
"""


@pytest.fixture(autouse=True)
def empty_user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own (empty) $XDG_DATA_HOME so a real user folder never leaks in."""
    data_home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    return data_home / "runwatch" / "themes"


def _by_name(themes: list[Theme]) -> dict[str, Theme]:
    return {t.name: t for t in themes}


def _luminance(colour: Color) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def _contrast(a: str, b: str) -> float:
    high, low = sorted([_luminance(Color.parse(a)), _luminance(Color.parse(b))], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_packaged_themes_load_without_errors() -> None:
    themes, errors = load_themes()
    assert errors == []
    assert set(_by_name(themes)) == PACKAGED
    assert DEFAULT_THEME in _by_name(themes)
    assert all(isinstance(t, Theme) for t in themes)


def test_packaged_themes_come_from_the_checkout_themes_folder() -> None:
    [folder] = packaged_theme_dirs()
    assert folder.name == "themes"
    assert {p.stem for p in folder.glob("*.toml")} == PACKAGED


def test_a_wheel_install_finds_its_force_included_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "runwatch"
    (package / "_themes").mkdir(parents=True)
    (package / "_themes" / "wheel-only.toml").write_text(GOOD.format(name="wheel-only"))
    monkeypatch.setattr(themes_module, "_PACKAGE_DIR", package)
    themes, errors = load_themes()
    assert errors == []
    assert set(_by_name(themes)) == {"wheel-only"}


@pytest.mark.parametrize("name", sorted(PACKAGED))
def test_every_packaged_theme_sets_every_status_variable(name: str) -> None:
    theme = _by_name(load_themes()[0])[name]
    assert set(STATUS_VARIABLES) == set(STATUS_VARIABLE_DEFAULTS)
    missing = [v for v in STATUS_VARIABLES if v not in theme.variables]
    assert missing == []


@pytest.mark.parametrize("name", sorted(PACKAGED - {"runwatch-ansi"}))
def test_status_colours_are_readable_on_the_background(name: str) -> None:
    theme = _by_name(load_themes()[0])[name]
    assert theme.background is not None
    floor = 6.0 if name == "runwatch-contrast" else 4.5  # WCAG AA; the wall theme more
    ratios = {v: _contrast(theme.variables[v], theme.background) for v in STATUS_VARIABLES}
    assert min(ratios.values()) >= floor, ratios


def test_the_ansi_theme_uses_ansi_colour_names_only() -> None:
    theme = _by_name(load_themes()[0])["runwatch-ansi"]
    assert theme.ansi is True
    colours = [getattr(theme, f) for f in COLOUR_FIELDS]
    colours += [value for key, value in theme.variables.items() if not key.endswith("-style")]
    assert colours and all(c.startswith("ansi_") for c in colours), colours


def test_the_contrast_theme_is_pure_black_and_white() -> None:
    theme = _by_name(load_themes()[0])["runwatch-contrast"]
    assert (theme.background, theme.foreground) == ("#000000", "#ffffff")


@pytest.mark.parametrize("name", sorted(PACKAGED))
async def test_every_packaged_theme_applies_in_textual(name: str) -> None:
    theme = _by_name(load_themes()[0])[name]
    app: App[None] = App()
    async with app.run_test():
        app.register_theme(theme)
        app.theme = name
        assert app.current_theme.name == name
        variables = app.get_css_variables()
        assert variables["run-failed"] == theme.variables["run-failed"]
        assert variables["background"]  # Textual generated the rest of the system


def test_broken_toml_is_one_line_naming_the_file_and_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "broken.toml").write_text('name = "broken"\nprimary = \n')
    (folder / "fine.toml").write_text(GOOD.format(name="fine"))
    themes, errors = load_themes([folder])
    assert "fine" in _by_name(themes) and "broken" not in _by_name(themes)
    assert len(errors) == 1
    assert str(folder / "broken.toml") in errors[0]
    assert "invalid TOML" in errors[0]
    assert "\n" not in errors[0]


def test_an_unknown_key_is_reported_with_the_key_and_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text(GOOD.format(name="typo").replace(
        'background = "#101010"', 'backgrond = "#101010"'))
    themes, errors = load_themes([tmp_path])
    assert "typo" not in _by_name(themes)
    path = tmp_path / "typo.toml"
    assert errors == [f"{path}: backgrond: unknown key (did you mean background?)"]


def test_an_unknown_status_variable_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "status.toml"
    path.write_text(GOOD.format(name="status").replace("run-failed", "run-faild"))
    with pytest.raises(ValueError, match=r"unknown status variable run-faild \(did you mean "
                                         r"run-failed\?\)"):
        load_theme_file(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('primary = "blurple"', r"primary: failed to parse 'blurple' as a color"),
        ('dark = "maybe"', r"dark: Input should be a valid boolean"),
        ('name = "Has Spaces"', r"name: String should match pattern"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    key = line.split(" ")[0]
    body = "\n".join(
        existing for existing in GOOD.format(name="bad").splitlines()
        if not existing.startswith(f"{key} ")
    )
    path.write_text(f"{line}\n{body}\n")
    with pytest.raises(ValueError, match=rf"^{path}: {message}"):
        load_theme_file(path)


def test_a_missing_primary_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "noprimary.toml"
    path.write_text('name = "noprimary"\n')
    with pytest.raises(ValueError, match=r"noprimary.toml: primary: missing$"):
        load_theme_file(path)


def test_the_user_folder_adds_a_theme(empty_user_dir: Path) -> None:
    assert user_theme_dir() == empty_user_dir
    empty_user_dir.mkdir(parents=True)
    (empty_user_dir / "mine.toml").write_text(GOOD.format(name="mine"))
    themes, errors = load_themes()
    assert errors == []
    assert set(_by_name(themes)) == PACKAGED | {"mine"}
    assert _by_name(themes)["mine"].variables == {"run-failed": "#ff0000"}


def test_a_user_theme_replaces_a_packaged_one_of_the_same_name(empty_user_dir: Path) -> None:
    empty_user_dir.mkdir(parents=True)
    (empty_user_dir / "dark.toml").write_text(GOOD.format(name="runwatch-dark"))
    themes, _ = load_themes()
    assert len(themes) == len(PACKAGED)
    assert _by_name(themes)["runwatch-dark"].primary == "#336699"
