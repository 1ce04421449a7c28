"""The footer: Textual's, rebuilt only when the keys it shows have changed."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

# What the footer shows of one key: key, label, enabled, tooltip.
ShownKey = tuple[str, str, bool, str]


class KeyFooter(Footer):
    """Textual's Footer recomposes (mounts a widget per key, lays out the screen) whenever
    its screen's bindings *may* have changed: on every focus change, e.g. each time a dialog
    closes.  Here it does so only when what it shows is different."""

    def __init__(self, **kwargs: bool) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[ShownKey, ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen and screen.app.app_focus:
            shown = tuple(
                (binding.key, binding.description, enabled, tooltip)
                for _node, binding, enabled, tooltip in screen.active_bindings.values()
                if binding.show
            )
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)
