"""Create a measure (field and its editable texts) or edit one: an input for each of the
measure's editable fields (`records.editable`), in their order, with their labels."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from koordinator.core import records
from koordinator.core.dates import LooseDate
from koordinator.core.views import FieldView, MeasureView
from koordinator.tui.dialogs.form import FormDialog, labelled_input
from koordinator.tui.user_text import user_text


@dataclass(frozen=True)
class MeasureInput:
    field_code: int
    texts: dict[str, str]  # each editable field by name
    on: LooseDate | None = None  # a new measure's: the day it was taken up

    @property
    def title(self) -> str:
        return self.texts["title"]


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
        # The title first, where the cursor starts: what one types first is the first field
        # (the field of action and the day come filled in; Enter in the title saves).
        m = self.measure
        if m is None:
            yield Label("Neue Maßnahme anlegen", classes="dialog-title")
        else:
            yield Label(f"Maßnahme {m.number} bearbeiten", classes="dialog-title")
        for name in records.editable(records.Measure):
            yield from labelled_input(
                records.label(records.Measure, name),
                name,
                value=getattr(m, name) if m else "",
                placeholder=records.roles(records.Measure)[name].hint,
                required=name == "title",
            )
        if m is None:
            yield Label("Handlungsfeld", classes="field-label")
            yield Select(
                [(user_text(f"{f.code} {f.name}"), f.code) for f in self.fields],
                value=self.field_code,
                allow_blank=False,
                id="field",
            )
            yield from self.today_input("Aufgenommen am")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def collect(self) -> MeasureInput:
        field_code = self.field_code
        on = None
        if self.measure is None:
            chosen = self.query_one("#field", Select).value
            field_code = chosen if isinstance(chosen, int) else field_code
            on = self.happened("on")
        return MeasureInput(
            field_code=field_code,
            texts={
                name: self.text(
                    name, required=records.label(records.Measure, name) if name == "title" else None
                )
                for name in records.editable(records.Measure)
            },
            on=on,
        )
