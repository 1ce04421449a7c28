"""The highlighted measure's details: all fields, milestones, delays, history (newest first)."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from koordinator.core.dates import german, local_time
from koordinator.core.views import MeasureDetail


def render_detail(detail: MeasureDetail, field_name: str) -> Group:
    """Plain Rich text (user text is never read as markup)."""
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
    return Group(*parts)


class MeasureDetails(VerticalScroll):
    """A scrollable pane; `show` replaces its content."""

    BORDER_TITLE = "Details"

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="detail-text")

    def show(self, detail: MeasureDetail | None, field_name: str = "") -> None:
        text = self.query_one("#detail-text", Static)
        if detail is None:
            text.update("Keine Maßnahme ausgewählt.")
        else:
            text.update(render_detail(detail, field_name))
        self.scroll_home(animate=False)
