"""The highlighted measure's details: all fields, milestones, delays, history (newest first)."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from koordinator.core.dates import german, local_time
from koordinator.core.text import printable
from koordinator.core.views import MeasureDetail

# A line of the pane as pieces of text and their styles (None: the pane's own).  Plain
# tuples, not Rich Text: a new measure's fifteen-odd lines are built, wrapped and turned
# into segments on every cursor move, and Text did that several times slower.
Span = tuple[str, Style | None]
Line = tuple[Span, ...]

BOLD = Style(bold=True)
HEADING = Style(bold=True, underline=True)
DIM = Style(dim=True)


def line(*pieces: str | Span) -> Line:
    """A line of user text (never read as markup); control codes (a carriage return) are
    removed, as Rich's Text removes them, and the other control characters and the
    bidirectional controls shown as escapes (a note keeps its line breaks and tabs)."""
    return tuple(
        (_shown(piece), None) if isinstance(piece, str) else (_shown(piece[0]), piece[1])
        for piece in pieces
    )


def _shown(text: str) -> str:
    return printable(strip_control_codes(text), keep="\n\t")


def plain(text: Line) -> str:
    return "".join(piece for piece, _ in text)


def detail_lines(detail: MeasureDetail, field_name: str) -> list[Line]:
    """The pane's lines, before wrapping; a note may hold line breaks (split when wrapped)."""
    m = detail.measure
    origin = (
        f"Katalog 2019 (beschlossen {german(m.origin_date)})"
        if m.origin == "catalog"
        else f"neu aufgenommen ({german(m.origin_date)})"
    )
    blank = line()
    parts: list[Line] = [
        line((f"{m.number}  {m.title}", BOLD)),
        line(("Status: ", BOLD), m.status.label),
        line(("Verantwortlich: ", BOLD), m.unit or "(nicht angegeben)"),
        line(("Handlungsfeld: ", BOLD), f"{m.field_code} – {field_name}"),
        line(("Herkunft: ", BOLD), origin),
        line(("Notiz: ", BOLD), m.note or "–"),
        line(("Geändert: ", BOLD), f"{local_time(m.updated_at)} (Revision {m.revision})"),
        blank,
        line(("Meilensteine", HEADING)),
    ]
    parts += [
        line(f"[{'x' if ms.done else ' '}] {ms.describe()}" + (f" – {ms.note}" if ms.note else ""))
        for ms in detail.milestones
    ] or [line("keine")]
    parts += [blank, line(("Verzögerungen", HEADING))]
    parts += [
        line(delay.describe() + (f" – {delay.note}" if delay.note else ""))
        for delay in detail.delays
    ] or [line("keine")]
    parts += [blank, line(("Verlauf (neueste zuerst)", HEADING))]
    for event in detail.history:
        note = f" – {event.note}" if event.note else ""
        parts.append(
            line((f"{local_time(event.occurred_at)} {event.author}: ", DIM), event.shown + note)
        )
    return parts


# --- wrapping: Rich's word wrap (Text.wrap) for a line that does not fit; tests compare what
# is painted, cell by cell, with Text.wrap and Text.render.


def wrap(text: Line, width: int, console: Console) -> list[Line]:
    """`text` as lines of `width` cells: split at line breaks, tabs expanded, broken between
    words (a word longer than a line is folded).  Spaces after a line's last word may reach
    beyond `width`; render_strip cuts them off, as Text.wrap does."""
    whole = plain(text)
    if "\n" not in whole and "\t" not in whole and cell_len(whole) <= width:
        return [text]  # nearly every line: as it is, without building a Text
    # A piece without a style of its own (None) is given "": Rich's annotation asks for a
    # style, and appends either the same way.
    wrapped = Text.assemble(*((piece, style or "") for piece, style in text)).wrap(console, width)
    return [tuple((s.text, s.style) for s in part.render(console)) for part in wrapped]


def _line_at(lines: list[Line], index: int) -> Line:
    """Line `index` of a pane's wrapped lines; below the last one the pane is blank."""
    return lines[index] if index < len(lines) else ()


def render_strip(text: Line, width: int, style: Style) -> Strip:
    """One wrapped line as a strip of `width` cells in the pane's `style`."""
    segments = [Segment(piece, style + span_style) for piece, span_style in text if piece]
    length = cell_len(plain(text))
    if length > width:  # pragma: no cover - wrapped lines fit
        return Strip(segments).crop_extend(0, width, style)
    if length < width:
        segments.append(Segment(" " * (width - length), style))
    return Strip(segments, width)


class MeasureDetails(ScrollView, can_focus=True):
    """A scrollable pane; `show` replaces its content.

    A line-API widget: it wraps the text once per measure and width, and turns into
    segments only the lines on screen.  Its vertical scrollbar is always there (see
    app.tcss), so a new measure with another number of lines changes no width; of the pane
    only the lines that differ from the last measure's are repainted, not its border.
    """

    BORDER_TITLE = "Details"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = ""
        self._lines: list[Line] = []
        self._wrapped: list[Line] = []
        self._wrap_width = 0
        self._strips: dict[int, Strip] = {}
        self._style = Style()

    def show(self, detail: MeasureDetail | None, field_name: str = "") -> None:
        lines = detail_lines(detail, field_name) if detail else [line("Keine Maßnahme ausgewählt.")]
        self.text = "\n".join(plain(text) for text in lines)  # what the pane says, for tests
        self._lines = lines
        shown, strips, width = self._wrapped, self._strips, self._wrap_width
        self._wrap_width = 0  # wrapped again now
        self._rewrap()
        if self.scroll_offset.y or not self.size or self._wrap_width != width:
            self.scroll_to(0, 0, animate=False, immediate=True)
            if self.size:  # the content lines: the border with its title stays as it is
                self.refresh(self.size.region)
            else:
                self.refresh()  # not laid out yet
            return
        # At the top, as wide as before: only the lines that differ from the last measure's
        # are repainted (a heading, a blank line, the field often stay the same).
        wrapped = self._wrapped
        self._strips = {
            index: strip
            for index, strip in strips.items()
            if _line_at(shown, index) == _line_at(wrapped, index)
        }
        width = self.size.width
        changed = [
            Region(0, y, width, 1)
            for y in range(self.size.height)
            if _line_at(shown, y) != _line_at(wrapped, y)
        ]
        if changed:
            self.refresh(*changed)

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
        self._wrapped = [wrapped for text in self._lines for wrapped in wrap(text, width, console)]
        self._wrap_width = width
        self._strips = {}
        size = Size(width, len(self._wrapped))
        if size != self.virtual_size:
            # Not through the reactive's watcher: that lays out (and repaints) the whole
            # screen on every cursor move, though the size this pane takes does not depend
            # on its content (its scrollbar is always there, see app.tcss).  Only the
            # scrollbar is told.
            self.set_reactive(MeasureDetails.virtual_size, size)
            self.vertical_scrollbar.window_virtual_size = size.height

    def render_lines(self, crop: Region) -> list[Strip]:
        # The style once per paint, not once per line (it walks the DOM).
        style = self.rich_style
        if style != self._style:  # focus, theme: the cached strips have the old colours
            self._style = style
            self._strips = {}
        self._rewrap()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        strip = self._strips.get(index)
        if strip is None:
            strip = render_strip(_line_at(self._wrapped, index), self._wrap_width, self._style)
            self._strips[index] = strip
        return strip
