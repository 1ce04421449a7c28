"""Add a milestone, or change one: title, due date (loose), note."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.core.dates import LooseDate, german
from koordinator.core.views import MeasureView, MilestoneView
from koordinator.tui.dialogs.form import DATE_HINT, FormDialog, labelled_input
from koordinator.tui.user_text import user_text


@dataclass(frozen=True)
class NewMilestone:
    title: str
    due: LooseDate | None
    note: str


class MilestoneDialog(FormDialog[NewMilestone | None]):
    def __init__(self, measure: MeasureView, milestone: MilestoneView | None = None) -> None:
        """`milestone`: the one to change, its values filled in (an empty date: no due)."""
        super().__init__()
        self.measure = measure
        self.milestone = milestone

    def compose_dialog(self) -> ComposeResult:
        edited = self.milestone
        action = "ändern" if edited else "anlegen"
        yield Label(f"Meilenstein für {self.measure.number} {action}", classes="dialog-title")
        yield Label(user_text(self.measure.title), classes="dialog-subtitle")
        yield from labelled_input(
            "Titel", "title", value=edited.title if edited else "", required=True
        )
        due = german(edited.due) if edited and edited.due else ""
        yield from labelled_input("Fällig", "due", value=due, placeholder=DATE_HINT)
        note = edited.note if edited else ""
        yield from labelled_input("Anmerkung", "note", value=note, placeholder="optional")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def collect(self) -> NewMilestone:
        return NewMilestone(
            title=self.text("title", required="Titel"), due=self.date("due"), note=self.text("note")
        )
