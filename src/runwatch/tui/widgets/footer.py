"""The footer every screen shows: the keys that apply first, then the ones that do not.

Textual's Footer lists keys in the order of the binding chain and marks a key that cannot
apply by dimming it alone, which a terminal without colour or dim cannot show. This one:

- puts the screen's keys that apply first (in the order the screen declares them), then
  its keys that cannot apply now after a "not now:" label (dimmed too; the label survives
  `NO_COLOR`), then the app's keys (sources, quit, the palette), which a narrow terminal
  cuts first;
- keeps `? help` at the right edge, where no cut reaches it (the help lists every key).

A key whose `check_action` says False is hidden (the other label of the same key, e.g.
pause/resume); None dims it, and its key still says why when pressed (the screen's
"explain" binding)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

HELP_ACTION = "help"
NOT_NOW = "not now:"


@dataclass(frozen=True)
class FooterEntry:
    """One key as the footer shows it."""

    binding: Binding
    enabled: bool
    tooltip: str
    rank: int
    everywhere: bool = False  # an app key (help, sources, quit, the palette)


def declared_rank(node: DOMNode, binding: Binding) -> int:
    """Where `binding` is declared on `node`'s class (most derived first): the screen's own
    order, not the order Textual's merge leaves keys in (base classes' keys first)."""
    rank = 0
    for cls in type(node).__mro__:
        for declared in cls.__dict__.get("BINDINGS", ()):
            if (isinstance(declared, Binding) and binding.action == declared.action
                    and binding.key in declared.key.split(",")):
                return rank
            rank += 1
    return rank


PALETTE_ACTIONS = frozenset({"command_palette", "app.command_palette"})
LAST = 10**6


def footer_entries(node_bindings: dict[str, tuple[DOMNode, Binding, bool, str]],
                   chain: list[DOMNode], *, palette: bool) -> list[FooterEntry]:
    """The shown keys of a screen's active bindings: the screen's that apply, the screen's
    that do not, then the app's; the command palette's key (which Textual binds hidden)
    last when `palette`. `chain` ends with the app."""
    entries: list[FooterEntry] = []
    seen: set[str] = set()
    for node, binding, enabled, tooltip in node_bindings.values():
        is_palette = binding.action in PALETTE_ACTIONS
        if (not binding.show and not (palette and is_palette)) or binding.action in seen:
            continue
        seen.add(binding.action)  # one entry per action, as Textual's footer does
        depth = chain.index(node) if node in chain else len(chain)
        rank = LAST if is_palette else depth * 1000 + declared_rank(node, binding)
        everywhere = node is chain[-1] if chain else False
        entries.append(FooterEntry(binding, enabled, tooltip, rank, everywhere))
    # The screen's keys that apply, then those that do not (marked), then the app's keys,
    # which the help lists too: a narrow terminal cuts those last.
    return sorted(entries, key=lambda e: (e.everywhere, not e.enabled, e.rank))


class KeysFooter(Footer):
    """A compact footer, keys that apply first; `? help` docked at the right."""

    DEFAULT_CSS = """
    KeysFooter {
        FooterKey.-help {
            dock: right; margin: 0; padding: 0 0 0 1; border-left: vkey $foreground 20%;
        }
        FooterLabel.-not-now { text-style: dim; margin: 0 1 0 1; }
    }
    """

    def __init__(self, *, id: str | None = None, show_command_palette: bool = True) -> None:
        super().__init__(id=id, compact=True, show_command_palette=show_command_palette)
        self._shown: tuple[object, ...] | None = None  # what the keys on screen show

    def _looks(self, entries: list[FooterEntry]) -> tuple[object, ...]:
        """All that composed keys show of `entries`: equal looks, equal footers."""
        return (self.compact, *((e.binding.key, self.app.get_key_display(e.binding),
                                 e.binding.description, e.binding.action, e.enabled,
                                 e.tooltip or e.binding.tooltip) for e in entries))

    async def recompose(self) -> None:
        # Textual recomposes the footer (every key removed, mounted and styled again)
        # whenever a screen's bindings *may* have changed: on mount, on each focus move,
        # source poll and key press; nearly all of those change nothing it shows.
        shown = self._shown
        if shown is not None and self.is_attached and self._looks(self.entries) == shown:
            return
        await super().recompose()

    @property
    def entries(self) -> list[FooterEntry]:
        """What the footer shows, in order (help included)."""
        screen = self.screen
        # Screens deeper in the chain (the focused widget first, the app last) rank later.
        chain = [node for node, _ in screen._modal_binding_chain]
        active = {key: (a.node, a.binding, a.enabled, a.tooltip)
                  for key, a in screen.active_bindings.items()}
        palette = self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
        return footer_entries(active, chain, palette=palette)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        marked = closed = False
        entries = self.entries
        self._shown = self._looks(entries)
        for entry in entries:
            binding = entry.binding
            # Born with the class FooterKey's `compact` watcher would add on mount: added
            # then, it styles the key a second time (half of a recompose's cost).
            classes = "-compact" if self.compact else ""
            if binding.action == HELP_ACTION:
                classes += " -help"
            elif not entry.enabled and not marked:
                marked = True
                yield FooterLabel(NOT_NOW, classes="-not-now")
            elif entry.enabled and marked and not closed:
                closed = True  # what follows applies again
                yield FooterLabel("│", classes="-not-now")
            # Not `.data_bind(compact=Footer.compact)` as Textual's Footer does: that binding
            # is a watcher on this footer holding the key, so every recompose (bindings change
            # on every poll) kept the keys it removed alive, ~30 widgets a poll.
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not entry.enabled,
                tooltip=entry.tooltip or binding.tooltip,
                classes=classes,
            )
            key.compact = self.compact
            yield key
