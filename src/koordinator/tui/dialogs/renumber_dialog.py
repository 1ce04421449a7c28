"""Give a measure another number: the new one, checked as typed (free and known is the
service's to say)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.core.errors import InputError
from koordinator.core.numbers import parse_number
from koordinator.core.views import MeasureView
from koordinator.tui.dialogs.form import FormDialog, FormError, labelled_input
from koordinator.tui.user_text import user_text


class RenumberDialog(FormDialog[str | None]):
    def __init__(self, measure: MeasureView) -> None:
        super().__init__()
        self.measure = measure

    def compose_dialog(self) -> ComposeResult:
        yield Label(f"Nummer von {self.measure.number} ändern", classes="dialog-title")
        yield Label(user_text(self.measure.title), classes="dialog-subtitle")
        yield from labelled_input(
            "Neue Nummer", "number", value=self.measure.number, placeholder="z. B. 1.18"
        )

    def on_mount(self) -> None:
        self.query_one("#number", Input).focus()

    def collect(self) -> str:
        typed = self.text("number", required="Die neue Nummer")
        try:
            return parse_number(typed)
        except InputError as error:
            raise FormError("number", str(error)) from None
