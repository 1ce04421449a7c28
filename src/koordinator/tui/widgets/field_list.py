"""The fields of action with their measure counts, plus "Alle"; choosing one filters the table.

The chosen field (the one the table shows) is marked with "›" (`koordinator.tui.marker`),
not by colour alone: the highlight is the cursor, which may stand elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from koordinator.core.text import printable
from koordinator.core.views import FieldView
from koordinator.tui.marker import MarkedLabel

ALL_FIELDS = "all"


class FieldList(OptionList):
    """Shows "Alle" and each field with its count; posts `FieldList.Chosen`."""

    BORDER_TITLE = "Handlungsfelder"

    @dataclass
    class Chosen(Message):
        field_code: int | None  # None: all fields

    def show_fields(self, fields: list[FieldView], chosen: int | None) -> None:
        total = sum(field.measure_count for field in fields)
        options = [Option(MarkedLabel(f"Alle ({total})", chosen=not chosen), id=ALL_FIELDS)]
        options += [
            Option(
                MarkedLabel(
                    printable(f"{field.code} {_short(field.name)} ({field.measure_count})"),
                    chosen=field.code == chosen,
                ),
                id=str(field.code),
            )
            for field in fields
        ]
        self.clear_options()
        self.add_options(options)
        self.highlighted = self.get_option_index(str(chosen) if chosen else ALL_FIELDS)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id
        self.post_message(self.Chosen(None if option_id == ALL_FIELDS else int(option_id or 0)))


def _short(name: str) -> str:
    """ "E-Government (Digitale Bürger- …)" -> "E-Government": the list is narrow."""
    return name.split(" (")[0]
