"""The Textual application: a small composition root built by `make_app`."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from koordinator.core.catalogue import Catalogue
from koordinator.tui.screens.main import MainScreen


class KoordinatorApp(App[None]):
    """Receives the catalogue service; screens do the rest."""

    CSS_PATH = "app.tcss"
    TITLE = "koordinator"
    BINDINGS = [Binding("q", "quit", "Beenden", id="quit")]

    def __init__(self, catalogue: Catalogue, *, read_only: bool) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.read_only = read_only
        self.sub_title = catalogue.database.target.display + (" (nur lesen)" if read_only else "")

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.catalogue))


def make_app(catalogue: Catalogue, *, read_only: bool = False) -> KoordinatorApp:
    """The one factory the CLI and the tests use."""
    return KoordinatorApp(catalogue, read_only=read_only)
