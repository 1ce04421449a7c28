"""Command palette (ctrl+p): every action of the main screen, and "go to measure" by number
or title."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from koordinator.core.text import printable

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
            text = printable(f"Gehe zu Maßnahme {measure.number} – {measure.title}")
            score = matcher.match(text)
            if score > 0:
                unit = printable(measure.unit) or "ohne Verantwortliche"
                yield Hit(
                    score,
                    highlighted(matcher, text),
                    partial(screen.go_to, measure.number),
                    text=text,
                    # The palette reads a hit's help as markup.
                    help=escape(f"{measure.status.label} · {unit}"),
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


def highlighted(matcher: Matcher, text: str) -> Content:
    """`text` with the letters the query matched highlighted, as `Matcher.highlight` does,
    but as plain text: `highlight` reads its candidate as markup, so a title with "[/]"
    would raise and one with "[@click=…]" become a link."""
    content = Content(text)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
