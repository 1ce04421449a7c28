"""The filter-as-you-type box (`/`): number, title, unit, note.  `Esc` clears it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS = [
        Binding("escape", "clear_filter", "Filter löschen", id="clear_filter"),
        Binding("enter", "done", "Zur Tabelle", show=False),
    ]

    @dataclass
    class Finished(Message):
        """The user left the filter box (Enter keeps the filter, Esc cleared it)."""

        cleared: bool

    def __init__(self) -> None:
        super().__init__(placeholder="Filter: Nummer, Titel, Verantwortlich, Notiz …", id="filter")

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Finished(cleared=True))

    def action_done(self) -> None:
        self.post_message(self.Finished(cleared=False))
