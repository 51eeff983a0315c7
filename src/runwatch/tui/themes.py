"""Themes described in TOML (DESIGN section 8), validated with pydantic, mapped onto Textual's
`Theme` dataclass.

A theme file is one flat table of the `Theme` fields plus a `[variables]` table. The status
colours are the variables `run-<status>` (for example `run-failed`), which widgets use as
`$run-failed` in their CSS; the app supplies defaults for any theme that leaves one out.

Packaged themes live in the repository's `themes/` folder (a source checkout) or in
`runwatch/_themes` (an installed wheel, see pyproject's force-include); a user's extra themes
in `$XDG_DATA_HOME/runwatch/themes`. A broken file is reported in one line and skipped.
"""

import difflib
import tomllib
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.theme import BUILTIN_THEMES, Theme

from runwatch.config import Config, refuse_unsafe_file
from runwatch.errors import ConfigError
from runwatch.paths import user_theme_dir
from runwatch.tui.look import STATUS

DEFAULT_THEME = "runwatch-dark"

# The status colour variables every packaged theme sets (`run-failed`, ...); the app's
# defaults in runwatch.tui.look cover user themes that leave some out.
STATUS_VARIABLES: tuple[str, ...] = tuple(look.variable for look in STATUS.values())

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/runwatch (or site-packages/runwatch)


def packaged_theme_dirs() -> list[Path]:
    """Where the themes shipped with runwatch are: the wheel's copy, else the checkout's."""
    candidates = [_PACKAGE_DIR / "_themes", _PACKAGE_DIR.parent.parent / "themes"]
    return [d for d in candidates if d.is_dir()][:1]


def _check_colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as error:
        raise ValueError(str(error)) from None
    return value


class ThemeFile(BaseModel):
    """One theme file: Textual's `Theme` fields, every colour checked as Textual parses it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    success: str | None = None
    warning: str | None = None
    error: str | None = None
    dark: bool = True
    # Native ANSI colours: the terminal's own 16-colour palette instead of RGB.
    ansi: bool = False
    luminosity_spread: float = Field(default=0.15, ge=0, le=1)
    text_alpha: float = Field(default=0.95, ge=0, le=1)
    variables: dict[str, str] = Field(default_factory=dict)

    @field_validator(
        "primary", "secondary", "accent", "foreground", "background", "surface", "panel",
        "boost", "success", "warning", "error",
    )
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        return None if value is None else _check_colour(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, variables: dict[str, str]) -> dict[str, str]:
        for key, value in variables.items():
            if key.startswith("run-") and key not in STATUS_VARIABLES:
                hint = difflib.get_close_matches(key, STATUS_VARIABLES, n=1)
                suggestion = f" (did you mean {hint[0]}?)" if hint else ""
                raise ValueError(f"unknown status variable {key}{suggestion}")
            if key.endswith("-style"):
                bad = [w for w in value.split() if w not in VALID_STYLE_FLAGS]
                if bad:
                    raise ValueError(f"{key}: {bad[0]!r} is not a text style")
                continue
            # A colour, optionally with an alpha percentage ("ansi_default 50%").
            colour, _, alpha = value.partition(" ")
            try:
                _check_colour(colour)
            except ValueError as error:
                raise ValueError(f"{key}: {error}") from None
            if alpha and not (alpha.endswith("%") and alpha[:-1].isdigit()):
                raise ValueError(f"{key}: {alpha!r} is not a percentage")
        return variables

    def to_theme(self) -> Theme:
        return Theme(**self.model_dump())



def _first_error(error: ValidationError) -> str:
    """The first problem as `key: message`, the way a person would look for it in the file."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        known = list(ThemeFile.model_fields)
        hint = difflib.get_close_matches(str(first["loc"][-1]), known, n=1)
        suggestion = f" (did you mean {hint[0]}?)" if hint else ""
        return f"{where}: unknown key{suggestion}"
    if first["type"] == "missing":
        return f"{where}: missing"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}"


def load_theme_file(path: Path, *, own: bool = False) -> Theme:
    """Read and validate one theme file. Raises ValueError with a one-line message.

    `own`: a user's file, refused (as a config is) when someone else could have written it."""
    if own:
        try:
            refuse_unsafe_file(path)
        except ConfigError as error:
            raise ValueError(error.message) from None
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: invalid TOML: {error}") from None
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as error:
        raise ValueError(f"{path}: {_first_error(error)}") from None


def _theme_files(folders: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.toml")))
    return files


def load_themes(extra_dirs: Iterable[Path] = ()) -> tuple[list[Theme], list[str]]:
    """The packaged themes, then the user's, then `extra_dirs`; a later theme of the same name
    replaces an earlier one. Returns the themes and one line per file that was skipped."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    packaged = _theme_files(packaged_theme_dirs())
    for path in [*packaged, *_theme_files([user_theme_dir(), *extra_dirs])]:
        try:
            theme = load_theme_file(path, own=path not in packaged)
        except ValueError as error:
            errors.append(str(error))
            continue
        themes[theme.name] = theme
    return list(themes.values()), errors


def installed_theme_names() -> tuple[set[str], list[str]]:
    """Every theme name the dashboard can use (Textual's own, runwatch's, the user's), and
    one line per theme file that was skipped: what `runwatch config check` checks against."""
    themes, errors = load_themes()
    return set(BUILTIN_THEMES) | {t.name for t in themes}, errors


def config_look_problems(config: Config, installed: Collection[str]) -> list[str]:
    """The config's theme names that are not `installed` and the source colours Textual
    cannot parse, one line each (file, where, key, the value, a suggestion)."""
    origin = str(config.path) if config.path else "config"
    problems: list[str] = []
    for section, theme in (("runwatch", config.runwatch.theme), ("kiosk", config.kiosk.theme)):
        if theme is not None and theme not in installed:
            problems.append(
                f"{origin}: [{section}]: key 'theme': {_unknown_theme(theme, installed)}"
            )
    for source in config.sources:
        if source.color is None:
            continue
        try:
            Color.parse(source.color)
        except ColorParseError as error:
            hint = f"; did you mean {error.suggested_color!r}?" if error.suggested_color else ""
            problems.append(f"{origin}: source {source.name!r}: key 'color': {source.color!r} "
                            f"is not a colour (a name such as 'red', or '#rrggbb'){hint}")
    return problems


def _unknown_theme(name: str, installed: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(installed), n=1)
    if close:
        return f"{name!r} is not an installed theme; did you mean {close[0]!r}?"
    ours = sorted(t for t in installed if t.startswith("runwatch-"))
    return f"{name!r} is not an installed theme (runwatch's: {', '.join(ours)})"
