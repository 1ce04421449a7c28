"""The key footer: Textual's Footer, with its keys already in the first frame."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's Footer composes its keys "after the next refresh" once the screen's
    bindings are known; on the first screen that next refresh is the first paint, so the
    footer would arrive one full render later.  The first time, its keys are composed right
    away instead (the first frame shows them); afterwards exactly as in Textual."""

    def bindings_changed(self, screen: Screen) -> None:
        first = not self._bindings_ready
        self._bindings_ready = True
        if not screen.app.app_focus or not (self.is_attached and screen is self.screen):
            return
        if first:
            self.call_later(self.recompose)
        else:
            self.call_after_refresh(self.recompose)
