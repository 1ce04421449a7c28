"""Mark a milestone reached: when (today filled in, any loose date) and a note."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.core.dates import LooseDate, local_today
from koordinator.core.views import MeasureView, MilestoneView
from koordinator.tui.dialogs.form import DATE_HINT, FormDialog, labelled_input
from koordinator.tui.user_text import user_text


@dataclass(frozen=True)
class MilestoneReached:
    on: LooseDate
    note: str


class ReachedDialog(FormDialog[MilestoneReached | None]):
    def __init__(self, measure: MeasureView, milestone: MilestoneView) -> None:
        super().__init__()
        self.measure = measure
        self.milestone = milestone

    def compose_dialog(self) -> ComposeResult:
        yield Label(f"Meilenstein von {self.measure.number} erreicht", classes="dialog-title")
        yield Label(user_text(self.milestone.title), classes="dialog-subtitle")
        today = LooseDate.from_date(local_today()).german()
        yield from labelled_input("Erreicht am", "on", value=today, placeholder=DATE_HINT)
        yield from labelled_input("Anmerkung", "note", placeholder="optional")

    def on_mount(self) -> None:
        self.query_one("#on", Input).focus()

    def collect(self) -> MilestoneReached:
        on = self.date("on") or LooseDate.from_date(local_today())
        return MilestoneReached(on=on, note=self.text("note"))
