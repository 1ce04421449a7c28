"""What a long job found: the export's checks, the import's report -- one scrollable screen.

A notification holds a few lines and runs off the screen; an export of a large catalogue
finds hundreds.  The lines are user data (titles, units, file names) and shown as typed.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from koordinator.tui.user_text import user_text


class FindingsScreen(ModalScreen[None]):
    """A title, a one-line summary and the lines; `Esc` or `q` closes it."""

    BINDINGS = [Binding("escape,q,enter", "close", "Schließen", id="close_findings")]

    def __init__(self, title: str, summary: str, lines: Iterable[str]) -> None:
        super().__init__()
        self.title_text = title
        self.summary = summary
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="findings", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(user_text(self.summary), classes="dialog-subtitle")
            yield Static(user_text("\n".join(self.lines)), id="findings-lines")
            yield Static("Esc, q oder Enter schließt · ↑/↓ blättert", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#findings", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
