"""The filter-as-you-type box (`/`): number, title, unit, note, status, delay cause (the rule:
`koordinator.core.views.matches_search`).  `Esc` clears it.  Its title says which status
the list is narrowed to (`f`), so the whole filter shows in one place."""

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
        super().__init__(
            placeholder="Filter: Nummer, Titel, Verantwortlich, Notiz, Status, Ursache …",
            id="filter",
        )

    def show_status(self, label: str | None) -> None:
        """The status the list is narrowed to (`f`), or None."""
        self.border_title = f"nur Status „{label}“ (f hebt auf)" if label else None

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Finished(cleared=True))

    def action_done(self) -> None:
        self.post_message(self.Finished(cleared=False))
