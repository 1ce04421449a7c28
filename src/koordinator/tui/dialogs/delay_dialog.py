"""Log a delay (cause defaults to Corona); a measure not yet delayed moves to "Verzögert"."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.core.views import MeasureView
from koordinator.core.workflow import DelayInput, Status
from koordinator.tui.dialogs.form import DATE_HINT, FormDialog, labelled_input
from koordinator.tui.user_text import user_text


class DelayDialog(FormDialog[DelayInput | None]):
    def __init__(self, measure: MeasureView) -> None:
        super().__init__()
        self.measure = measure

    def compose_dialog(self) -> ComposeResult:
        yield Label(f"Verzögerung für {self.measure.number} erfassen", classes="dialog-title")
        yield Label(user_text(self.measure.title), classes="dialog-subtitle")
        if self.measure.status != Status.DELAYED:
            yield Label(
                f"Der Status wechselt von „{self.measure.status.label}“ zu „Verzögert“.",
                classes="dialog-note",
            )
        yield from labelled_input("Ursache", "cause", value="Corona", required=True)
        yield from labelled_input("Seit", "since", placeholder=f"heute – {DATE_HINT}")
        yield from labelled_input(
            "Voraussichtlich bis / neues Ziel", "until", placeholder=DATE_HINT
        )
        yield from labelled_input("Anmerkung", "note", placeholder="optional")

    def on_mount(self) -> None:
        self.query_one("#since", Input).focus()

    def collect(self) -> DelayInput:
        since, until = self.delay_period("since", "until")
        return DelayInput(
            cause=self.text("cause", required="Ursache"),
            since=since,
            until=until,
            note=self.text("note"),
        )
