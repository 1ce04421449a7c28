"""Create a measure (field, title, unit, note) or edit one (title, unit, note)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from koordinator.core.views import FieldView, MeasureView
from koordinator.tui.dialogs.form import FormDialog, labelled_input
from koordinator.tui.user_text import user_text


@dataclass(frozen=True)
class MeasureInput:
    field_code: int
    title: str
    unit: str
    note: str


class MeasureDialog(FormDialog[MeasureInput | None]):
    """`measure` None: a new measure in one of `fields` (preselected: `field_code`)."""

    def __init__(
        self,
        *,
        fields: list[FieldView],
        measure: MeasureView | None = None,
        field_code: int | None = None,
    ) -> None:
        super().__init__()
        self.fields = fields
        self.measure = measure
        self.field_code = measure.field_code if measure else (field_code or fields[0].code)

    def compose_dialog(self) -> ComposeResult:
        m = self.measure
        if m is None:
            yield Label("Neue Maßnahme anlegen", classes="dialog-title")
            yield Label("Handlungsfeld", classes="field-label")
            yield Select(
                [(user_text(f"{f.code} {f.name}"), f.code) for f in self.fields],
                value=self.field_code,
                allow_blank=False,
                id="field",
            )
        else:
            yield Label(f"Maßnahme {m.number} bearbeiten", classes="dialog-title")
        yield from labelled_input("Titel", "title", value=m.title if m else "", required=True)
        yield from labelled_input(
            "Verantwortlich", "unit", value=m.unit if m else "", placeholder="z. B. FB 12"
        )
        yield from labelled_input("Notiz", "note", value=m.note if m else "")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def collect(self) -> MeasureInput:
        field_code = self.field_code
        if self.measure is None:
            chosen = self.query_one("#field", Select).value
            field_code = chosen if isinstance(chosen, int) else field_code
        return MeasureInput(
            field_code=field_code,
            title=self.text("title", required="Titel"),
            unit=self.text("unit"),
            note=self.text("note"),
        )
