"""The main screen: the catalogue as a table."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

from koordinator.core.catalogue import Catalogue
from koordinator.tui.widgets.measure_table import MeasureTable


class MainScreen(Screen[None]):
    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue

    def compose(self) -> ComposeResult:
        yield Header()
        yield MeasureTable(id="measures")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(MeasureTable).show_measures(self.catalogue.list_measures())
