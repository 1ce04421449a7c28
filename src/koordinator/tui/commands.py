"""Command palette (ctrl+p): every action of the main screen, and "go to measure" by number
or title."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from koordinator.tui.screens.main import MainScreen


class MeasureCommands(Provider):
    """ "Gehe zu Maßnahme 3.6 – GIS-Krisenmanagement": matches number and title."""

    def _main_screen(self) -> MainScreen | None:
        from koordinator.tui.screens.main import MainScreen

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, MainScreen):
                return screen
        return None

    async def search(self, query: str) -> Hits:
        screen = self._main_screen()
        if screen is None:
            return
        matcher = self.matcher(query)
        for measure in screen.catalogue.list_measures():
            text = f"Gehe zu Maßnahme {measure.number} – {measure.title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(screen.go_to, measure.number),
                    help=f"{measure.status.label} · {measure.unit or 'ohne Verantwortliche'}",
                )

    async def discover(self) -> Hits:
        screen = self._main_screen()
        if screen is None:
            return
        yield DiscoveryHit(
            "Gehe zu Maßnahme …",
            partial(self.app.action_command_palette),
            help="Nummer oder Titel tippen, z. B. „3.6“ oder „Chatbot“",
        )
