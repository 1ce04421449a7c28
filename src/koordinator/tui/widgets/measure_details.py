"""The highlighted measure's details: all fields, milestones, delays, history (newest first)."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from koordinator.core.dates import german, local_time
from koordinator.core.views import MeasureDetail


def detail_lines(detail: MeasureDetail, field_name: str) -> list[Text]:
    """Plain Rich text lines (user text is never read as markup).

    Styles are spans (Text.assemble), not a Text's own style: MeasureDetails renders lines
    with Text.render, which leaves a Text's own style out.
    """
    m = detail.measure
    origin = (
        f"Katalog 2019 (beschlossen {german(m.origin_date)})"
        if m.origin == "catalog"
        else f"neu aufgenommen ({german(m.origin_date)})"
    )
    parts: list[Text] = [
        Text.assemble((f"{m.number}  {m.title}", "bold")),
        Text.assemble(("Status: ", "bold"), m.status.label),
        Text.assemble(("Verantwortlich: ", "bold"), m.unit or "(nicht angegeben)"),
        Text.assemble(("Handlungsfeld: ", "bold"), f"{m.field_code} – {field_name}"),
        Text.assemble(("Herkunft: ", "bold"), origin),
        Text.assemble(("Notiz: ", "bold"), m.note or "–"),
        Text.assemble(
            ("Geändert: ", "bold"), f"{local_time(m.updated_at)} (Revision {m.revision})"
        ),
        Text(""),
        Text.assemble(("Meilensteine", "bold underline")),
    ]
    parts += [
        Text(f"[{'x' if ms.done else ' '}] {ms.describe()}" + (f" – {ms.note}" if ms.note else ""))
        for ms in detail.milestones
    ] or [Text("keine")]
    parts += [Text(""), Text.assemble(("Verzögerungen", "bold underline"))]
    parts += [
        Text(delay.describe() + (f" – {delay.note}" if delay.note else ""))
        for delay in detail.delays
    ] or [Text("keine")]
    parts += [Text(""), Text.assemble(("Verlauf (neueste zuerst)", "bold underline"))]
    for event in detail.history:
        line = Text.assemble(
            (f"{local_time(event.occurred_at)} {event.author}: ", "dim"), event.summary
        )
        if event.note:
            line.append(f" – {event.note}")
        parts.append(line)
    return parts


class MeasureDetails(ScrollView, can_focus=True):
    """A scrollable pane; `show` replaces its content.

    A line-API widget: it wraps the text once per measure and width, and turns into
    segments only the lines on screen.  Its vertical scrollbar is always there (see
    app.tcss), so a new measure with another number of lines changes no geometry: only this
    pane is repainted, without a layout pass over the screen on every cursor move.
    """

    BORDER_TITLE = "Details"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = ""
        self._lines: list[Text] = []
        self._wrapped: list[Text] = []
        self._wrap_width = 0
        self._strips: dict[int, Strip] = {}
        self._style = Style()

    def show(self, detail: MeasureDetail | None, field_name: str = "") -> None:
        lines = detail_lines(detail, field_name) if detail else [Text("Keine Maßnahme ausgewählt.")]
        self.text = "\n".join(line.plain for line in lines)  # what the pane says, for tests
        self._lines = lines
        self._wrap_width = 0  # wrapped again for the next paint
        self._rewrap()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        self._rewrap()

    def _content_width(self) -> int:
        return self.scrollable_content_region.width

    def _rewrap(self) -> None:
        """Wrap the lines to the pane's width and tell the scrollbar the new height."""
        width = self._content_width()
        if width <= 0 or width == self._wrap_width:
            return
        console = self.app.console
        wrapped: list[Text] = []
        for line in self._lines:
            # Most lines fit: Rich's word wrap is for the few that do not, and for those
            # with line breaks or tabs (a note): it splits and expands them.
            plain = line.plain
            if line.cell_len > width or "\n" in plain or "\t" in plain:
                wrapped.extend(line.wrap(console, width))
            else:
                wrapped.append(line)
        self._wrapped = wrapped
        self._wrap_width = width
        self._strips.clear()
        size = Size(width, len(wrapped))
        if size != self.virtual_size:
            # Not the reactive (that would lay out the whole screen): the size this pane
            # takes does not depend on its content, only its scrollbar does.
            self.set_reactive(Widget.virtual_size, size)
            self._scroll_update(size)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Style and width once per paint, not once per line (both walk the DOM).
        self._style = self.rich_style
        self._rewrap()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        strip = self._strips.get(index)
        if strip is None:
            if index < len(self._wrapped):
                segments = list(self._wrapped[index].render(self.app.console, end=""))
            else:
                segments = [Segment("")]
            strip = Strip(segments).crop_extend(0, self._wrap_width, None)
            self._strips[index] = strip
        return strip.apply_style(self._style)
