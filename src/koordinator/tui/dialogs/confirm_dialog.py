"""A yes/no question, e.g. before undoing a change.  `Enter`/`y` yes, `Esc`/`n` no.

Not `j` for "ja": everywhere else `j` moves down, and a `j` pressed out of habit must not
undo a change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from koordinator.tui.user_text import user_text


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [
        Binding("enter,y", "answer(True)", "Ja", id="yes"),
        Binding("escape,n", "answer(False)", "Nein", id="no"),
    ]

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(user_text(self.question))
            yield Static("Enter/y: Ja · Esc/n: Nein", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
