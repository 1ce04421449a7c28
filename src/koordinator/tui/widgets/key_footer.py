"""The footer: Textual's, rebuilt only when the keys it shows have changed."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

# What the footer shows of one key: key, label, enabled, tooltip.
ShownKey = tuple[str, str, bool, str]


class KeyFooter(Footer):
    """Textual's Footer recomposes (mounts a widget per key, lays out the screen) whenever
    its screen's bindings *may* have changed (its screen's `bindings_updated_signal`): on
    every focus change, e.g. each time a dialog closes.  Here it does so only when what it
    shows (`screen.active_bindings`) is different.

    And its keys are in the first frame: Textual composes them "after the next refresh" once
    the screen's bindings are known, which on the first screen is the first paint, so the
    footer would come one full render later.  The first time, they are composed right away.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[ShownKey, ...] | None = None
        self._composed: tuple[ShownKey, ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen and screen.app.app_focus:
            shown = tuple(
                (binding.key, binding.description, enabled, tooltip)
                for _node, binding, enabled, tooltip in screen.active_bindings.values()
                if binding.show
            )
            if shown == self._shown:
                return
            first = self._shown is None
            self._shown = shown
            super().bindings_changed(screen)
            if first and self.is_attached:
                self.call_later(self.recompose)  # before the first paint, not after it
            return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        # Footer's own recompose after the first paint finds the keys composed already.
        if self._shown is not None and self._shown == self._composed:
            return
        self._composed = self._shown
        await super().recompose()
