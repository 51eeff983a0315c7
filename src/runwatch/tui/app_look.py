"""The app's look: the status colours every theme gets, the themes registered and the one
chosen at start, and what reaches the terminal (no colour, ASCII only). A base of
`runwatch.tui.app.RunwatchApp`, which owns the rest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from textual.app import App
from textual.filter import LineFilter, Monochrome, NoColor

from runwatch.config import Config
from runwatch.state import load_state
from runwatch.tui.look import STATUS_VARIABLE_DEFAULTS
from runwatch.tui.themes import DEFAULT_THEME, load_themes

__all__ = ["FALLBACK_THEME", "NO_COLOUR_VARIABLES", "AppLook"]

FALLBACK_THEME = "textual-dark"

# Without colour the cursor and the selection would vanish (they are backgrounds): reverse
# video shows them in the terminal's own colours.
NO_COLOUR_VARIABLES = {
    "block-cursor-text-style": "reverse bold",
    "block-cursor-blurred-text-style": "reverse",
    "input-cursor-text-style": "reverse",
}


class AppLook(App[int]):
    """Themes and the terminal's limits; RunwatchApp sets these attributes."""

    config: Config
    kiosk: bool
    _theme_errors: list[str]
    _terminal_filters: list[LineFilter]

    # -- themes ----------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Status colours for themes that do not set them (Textual's own, users' files).
        return dict(STATUS_VARIABLE_DEFAULTS)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        if getattr(self, "no_color", False):  # Textual asks before its __init__ sets it
            variables.update(NO_COLOUR_VARIABLES)
            self.theme_variables = variables
        return variables

    # -- the terminal ----------------------------------------------------------------

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, less its NO_COLOR one (it writes grey colours), plus ours."""
        filters = super().get_line_filters()
        ours = getattr(self, "_terminal_filters", [])
        if self.no_color:
            filters = [f for f in filters if not isinstance(f, Monochrome | NoColor)]
        return [*filters, *ours]

    def _register_themes(self, extra_dirs: Iterable[Path]) -> list[str]:
        """Register the packaged and user themes; one message per broken file."""
        themes, errors = load_themes(extra_dirs)
        for theme in themes:
            self.register_theme(theme)
        return errors

    def _initial_theme(self, requested: str | None) -> str:
        """`--theme` > the state file (not in kiosk) > config > the default."""
        if requested and requested not in self.available_themes:
            self._theme_errors.append(f"theme {requested!r} is not installed")
        if self.kiosk:
            candidates = [requested, self.config.kiosk.theme, self.config.runwatch.theme]
        else:
            saved = load_state().get("theme")
            candidates = [requested, saved if isinstance(saved, str) else None,
                          self.config.runwatch.theme]
        for name in [*candidates, DEFAULT_THEME]:
            if name and name in self.available_themes:
                return name
        return FALLBACK_THEME

