"""Add a milestone: title, due date (loose), note."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.core.dates import LooseDate
from koordinator.core.views import MeasureView
from koordinator.tui.dialogs.form import DATE_HINT, FormDialog, labelled_input
from koordinator.tui.user_text import user_text


@dataclass(frozen=True)
class NewMilestone:
    title: str
    due: LooseDate | None
    note: str


class MilestoneDialog(FormDialog[NewMilestone | None]):
    def __init__(self, measure: MeasureView) -> None:
        super().__init__()
        self.measure = measure

    def compose_dialog(self) -> ComposeResult:
        yield Label(f"Meilenstein für {self.measure.number} anlegen", classes="dialog-title")
        yield Label(user_text(self.measure.title), classes="dialog-subtitle")
        yield from labelled_input("Titel", "title", required=True)
        yield from labelled_input("Fällig", "due", placeholder=DATE_HINT)
        yield from labelled_input("Anmerkung", "note", placeholder="optional")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def collect(self) -> NewMilestone:
        return NewMilestone(
            title=self.text("title", required="Titel"), due=self.date("due"), note=self.text("note")
        )
