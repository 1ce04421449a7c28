"""Log a delay (cause defaults to Corona); a measure not yet delayed moves to "Verzögert".
Or change an open delay, its values filled in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.core.dates import german
from koordinator.core.views import DelayView, MeasureView
from koordinator.core.workflow import DelayInput, Status, cause_label
from koordinator.tui.dialogs.form import DATE_HINT, FormDialog, labelled_input
from koordinator.tui.user_text import user_text


class DelayDialog(FormDialog[DelayInput | None]):
    def __init__(self, measure: MeasureView, delay: DelayView | None = None) -> None:
        """`delay`: the open delay to change (an empty "bis": none; an empty "seit": as
        it was)."""
        super().__init__()
        self.measure = measure
        self.delay = delay

    def compose_dialog(self) -> ComposeResult:
        edited = self.delay
        action = "ändern" if edited else "erfassen"
        yield Label(f"Verzögerung für {self.measure.number} {action}", classes="dialog-title")
        yield Label(user_text(self.measure.title), classes="dialog-subtitle")
        if edited is None and self.measure.status != Status.DELAYED:
            yield Label(
                f"Der Status wechselt von „{self.measure.status.label}“ zu „Verzögert“.",
                classes="dialog-note",
            )
        cause = cause_label(edited.cause) if edited else "Corona"
        yield from labelled_input("Ursache", "cause", value=cause, required=True)
        since = german(edited.since) if edited else ""
        yield from labelled_input("Seit", "since", value=since, placeholder=f"heute – {DATE_HINT}")
        until = german(edited.until) if edited and edited.until else ""
        yield from labelled_input(
            "Voraussichtlich bis / neues Ziel", "until", value=until, placeholder=DATE_HINT
        )
        note = edited.note if edited else ""
        yield from labelled_input("Anmerkung", "note", value=note, placeholder="optional")

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
