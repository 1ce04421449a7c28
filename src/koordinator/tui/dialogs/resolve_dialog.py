"""Resolve a measure's open delays; a delayed measure goes on "Im Zeitplan" or "Etabliert"."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Label, RadioButton, RadioSet

from koordinator.core.dates import LooseDate
from koordinator.core.views import DelayView, MeasureView
from koordinator.core.workflow import Status
from koordinator.tui.dialogs.form import DATE_HINT, FormDialog, labelled_input
from koordinator.tui.user_text import user_text


class MarkedRadioButton(RadioButton):
    """A radio button whose state shows in its character, ● on and ○ off: Textual's draws
    ● for both and tells them apart by colour only, lost under NO_COLOR or in monochrome."""

    # BUTTON_INNER: Textual's public name for the button's character.
    BUTTON_INNER = "○"

    def on_mount(self) -> None:
        self._mark()

    def watch_value(self) -> None:
        self._mark()
        super().watch_value()

    def _mark(self) -> None:
        self.BUTTON_INNER = "●" if self.value else "○"


@dataclass(frozen=True)
class DelayResolution:
    on: LooseDate | None
    return_to: Status
    note: str


class ResolveDialog(FormDialog[DelayResolution | None]):
    def __init__(self, measure: MeasureView, open_delays: list[DelayView]) -> None:
        super().__init__()
        self.measure = measure
        self.open_delays = open_delays

    def compose_dialog(self) -> ComposeResult:
        yield Label(f"Verzögerung von {self.measure.number} beheben", classes="dialog-title")
        yield Label(user_text(self.measure.title), classes="dialog-subtitle")
        for delay in self.open_delays:
            yield Label(user_text(f"• {delay.describe()}"), classes="dialog-note")
        yield from labelled_input("Behoben am", "on", placeholder=f"heute – {DATE_HINT}")
        if self.measure.status == Status.DELAYED:
            yield Label("Weiter mit", classes="field-label")
            with RadioSet(id="return-to"):
                yield MarkedRadioButton(Status.ON_SCHEDULE.label, value=True, id="on_schedule")
                yield MarkedRadioButton(Status.ESTABLISHED.label, id="established")
        yield from labelled_input("Anmerkung", "note", placeholder="optional")

    def on_mount(self) -> None:
        self.query_one("#on", Input).focus()

    def collect(self) -> DelayResolution:
        return_to = Status.ON_SCHEDULE
        radios = self.query("#return-to").results(RadioSet)
        for radio_set in radios:
            if radio_set.pressed_button is not None and radio_set.pressed_button.id:
                return_to = Status(radio_set.pressed_button.id)
        return DelayResolution(on=self.date("on"), return_to=return_to, note=self.text("note"))
