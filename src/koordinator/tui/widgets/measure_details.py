"""The highlighted measure's details: all fields, milestones, delays, history (newest first)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual.widgets import RichLog

from koordinator.core.dates import german, local_time
from koordinator.core.views import MeasureDetail


def detail_lines(detail: MeasureDetail, field_name: str) -> list[Text]:
    """Plain Rich text lines (user text is never read as markup)."""
    m = detail.measure
    origin = (
        f"Katalog 2019 (beschlossen {german(m.origin_date)})"
        if m.origin == "catalog"
        else f"neu aufgenommen ({german(m.origin_date)})"
    )
    parts: list[Text] = [
        Text(f"{m.number}  {m.title}", style="bold"),
        Text.assemble(("Status: ", "bold"), m.status.label),
        Text.assemble(("Verantwortlich: ", "bold"), m.unit or "(nicht angegeben)"),
        Text.assemble(("Handlungsfeld: ", "bold"), f"{m.field_code} – {field_name}"),
        Text.assemble(("Herkunft: ", "bold"), origin),
        Text.assemble(("Notiz: ", "bold"), m.note or "–"),
        Text.assemble(
            ("Geändert: ", "bold"), f"{local_time(m.updated_at)} (Revision {m.revision})"
        ),
        Text(""),
        Text("Meilensteine", style="bold underline"),
    ]
    parts += [
        Text(f"[{'x' if ms.done else ' '}] {ms.describe()}" + (f" – {ms.note}" if ms.note else ""))
        for ms in detail.milestones
    ] or [Text("keine")]
    parts += [Text(""), Text("Verzögerungen", style="bold underline")]
    parts += [
        Text(delay.describe() + (f" – {delay.note}" if delay.note else ""))
        for delay in detail.delays
    ] or [Text("keine")]
    parts += [Text(""), Text("Verlauf (neueste zuerst)", style="bold underline")]
    for event in detail.history:
        line = Text.assemble(
            (f"{local_time(event.occurred_at)} {event.author}: ", "dim"), event.summary
        )
        if event.note:
            line.append(f" – {event.note}")
        parts.append(line)
    return parts


class MeasureDetails(RichLog):
    """A scrollable pane; `show` replaces its content.

    A line-based log widget rather than a Static in a scroll container: replacing its text
    re-renders this pane only, without a layout pass over the whole screen on every cursor move.
    """

    BORDER_TITLE = "Details"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(wrap=True, auto_scroll=False, min_width=20, **kwargs)
        self.text = ""

    def show(self, detail: MeasureDetail | None, field_name: str = "") -> None:
        lines = detail_lines(detail, field_name) if detail else [Text("Keine Maßnahme ausgewählt.")]
        self.text = "\n".join(line.plain for line in lines)  # what the pane says, for tests
        self.clear()
        self.write(Group(*lines), scroll_end=False)
        self.scroll_home(animate=False)
