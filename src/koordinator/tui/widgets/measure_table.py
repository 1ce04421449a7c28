"""The measures list: number, status, title, unit, next milestone, delay marker.

A line-API widget of its own (a `ScrollView` whose `render_line` returns a `Strip`), the
way Textual's Log and Textualize's toolong draw long lists: only the lines on screen are
built, and each line comes from a cache keyed on everything it shows -- the row's cells,
the column widths, whether it is the cursor or the hover row, and the styles of this paint
(focus, theme).  A cursor move therefore builds two lines (the old and the new cursor row);
a change to one measure builds its line only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.signal import Signal
from textual.strip import Strip

from koordinator.core.dates import from_iso
from koordinator.core.numbers import number_key
from koordinator.core.text import printable
from koordinator.core.views import MeasureView
from koordinator.core.workflow import REPORT_ORDER
from koordinator.tui.status_keys import SHORT_LABELS

# Status comes second so that it stays visible on an 80-column terminal.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "Nr"),
    ("status", "Status"),
    ("title", "Titel"),
    ("unit", "Verantwortlich"),
    ("milestone", "Nächster Meilenstein"),
    ("delay", "Verz."),
)

# How each column sorts: numbers numerically, statuses in the report's order, milestones by
# deadline (measures without one last).
SORT_KEYS: dict[str, Callable[[MeasureView], Any]] = {
    "number": lambda m: number_key(m.number),
    "title": lambda m: (m.title.lower(), number_key(m.number)),
    "status": lambda m: (REPORT_ORDER.index(m.status), number_key(m.number)),
    "unit": lambda m: (m.unit == "", m.unit.lower(), number_key(m.number)),
    "milestone": lambda m: (
        m.next_milestone is None,
        m.next_milestone is not None and m.next_milestone.due is None,
        _deadline(m),
        number_key(m.number),
    ),
    "delay": lambda m: (-m.open_delays, number_key(m.number)),
}

# The title takes what the other columns leave; below this width they give way, step by
# step (see Layout.fit), and the title stays readable.
TITLE_WIDTH = 30
# The status column's width when it gives way (the longest label that stays whole).
STATUS_WIDTH = 11
# What the other columns take at most; the details pane shows the full text.
UNIT_WIDTH = 16
MILESTONE_WIDTH = 32
DATE_WIDTH = len("überf. 31.12.2024")
# Lines kept built: a few screens' worth in every cursor/hover state.
LINE_CACHE_SIZE = 1024


def _deadline(measure: MeasureView) -> tuple[Any, ...]:
    due = from_iso(measure.next_milestone.due) if measure.next_milestone else None
    return due.deadline_key() if due else ()


def milestone_cell(measure: MeasureView) -> str:
    """ "überfällig 06/2021 Pilotbetrieb": marker and date first, so clipping cuts the title."""
    milestone = measure.next_milestone
    if milestone is None:
        return ""
    due = from_iso(milestone.due)
    text = f"{due.german()} {milestone.title}" if due else milestone.title
    return f"überfällig {text}" if milestone.overdue else text


def milestone_date(measure: MeasureView) -> str:
    """The next milestone's date only ("überf. 06/2021"), for a narrow list."""
    milestone = measure.next_milestone
    if milestone is None:
        return ""
    due = from_iso(milestone.due)
    text = due.german() if due else "ohne Datum"
    return f"überf. {text}" if milestone.overdue else text


def delay_cell(measure: MeasureView) -> str:
    if not measure.open_delays:
        return ""
    return "offen" if measure.open_delays == 1 else f"{measure.open_delays} offen"


def cells_of(m: MeasureView) -> tuple[str, ...]:
    """A measure's cells, in the order of COLUMNS, uncut (a control character as its escape)."""
    return (
        m.number,
        m.status.label,
        printable(m.title),
        printable(m.unit),
        printable(milestone_cell(m)),
        delay_cell(m),
    )


def _widest(measures: list[MeasureView], width: Callable[[MeasureView], int], cap: int) -> int:
    """The widest of the measures' cells, or `cap` as soon as one is that wide."""
    widest = 0
    for m in measures:
        widest = max(widest, width(m))
        if widest >= cap:
            return widest
    return widest


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded, or cut with "…" where it was cut."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…" if width > 0 else ""


@dataclass(frozen=True)
class Layout:
    """Which columns are shown, how wide, and in which form (short status labels, the
    milestone's date only)."""

    widths: tuple[int, ...]  # per column of COLUMNS; 0: not shown
    short_status: bool = False
    date_only: bool = False

    @classmethod
    def fit(cls, width: int, natural: dict[str, int]) -> Layout:
        """The columns for a list `width` cells wide, whose longest cells are `natural`.

        The title takes what is left; while that is less than TITLE_WIDTH the others give
        way in this order: the milestone to 24 cells, the unit to 12, the status to its
        short label, the milestone to its date, the delay column goes.  An 80-column terminal
        ends with number, status, title, unit and date, without sideways scrolling.
        """
        number = max(natural["number"], 2)
        status = max(natural["status"], len("Status"))
        # Short labels where a full one does not fit: "Im Zeitplan" does, "In die Linie
        # übergeben" becomes "Linie".
        short_status = min(status, STATUS_WIDTH)
        unit = min(max(natural["unit"], 6), UNIT_WIDTH)
        milestone = min(max(natural["milestone"], 8), MILESTONE_WIDTH)
        date = min(max(natural["date"], 8), DATE_WIDTH)
        delay = max(natural["delay"], len("Verz."))
        layout = {
            "number": number,
            "status": status,
            "unit": unit,
            "milestone": milestone,
            "delay": delay,
        }
        short = date_only = False

        def title() -> int:
            shown = [w for w in layout.values() if w]
            return width - sum(shown) - (len(shown) + 1)  # a space before each column

        steps: list[Callable[[], None]] = [
            lambda: layout.update(milestone=min(layout["milestone"], 24)),
            lambda: layout.update(unit=min(layout["unit"], 12)),
            lambda: layout.update(status=short_status),
            lambda: layout.update(milestone=date),
            lambda: layout.update(delay=0),
        ]
        for index, step in enumerate(steps):
            if title() >= TITLE_WIDTH:
                break
            step()
            short = short or index >= 2
            date_only = date_only or index >= 3
        widths = (
            layout["number"],
            layout["status"],
            max(title(), 5),
            layout["unit"],
            layout["milestone"],
            layout["delay"],
        )
        return cls(widths, short, date_only)

    def labels(self) -> tuple[str, ...]:
        labels = [label for _key, label in COLUMNS]
        if self.date_only:
            labels[4] = "Meilenstein"
        return tuple(labels)

    def line(self, cells: tuple[str, ...]) -> str:
        """The text of one line: each shown cell fitted to its column, a space before each."""
        shown = zip(cells, self.widths, strict=True)
        return "".join(" " + fit(cell, width) for cell, width in shown if width)

    def column_at(self, x: int) -> str | None:
        """The key of the column that cell `x` of a line belongs to."""
        start = 0
        for (key, _label), width in zip(COLUMNS, self.widths, strict=True):
            if not width:
                continue
            if start <= x <= start + width:
                return key
            start += width + 1
        return None


class MeasureTable(ScrollView, can_focus=True):
    """Shows measures, one per line under a header; sorting is by one column.

    `cursor_moved` is published (with the new measure number) the moment the cursor is on
    another measure: the screen updates the details before the next frame, so that the
    moved cursor and the new details are painted together.
    """

    BINDINGS = [
        Binding("home", "scroll_top", "Erste Maßnahme", show=False),
        Binding("end", "scroll_bottom", "Letzte Maßnahme", show=False),
        Binding("j", "cursor_down", "Runter", show=False),
        Binding("k", "cursor_up", "Hoch", show=False),
        Binding("o", "next_sort", "Sortieren", id="sort", show=False),
        # In the help's "Bewegen" section already (NAVIGATION_KEYS): no description.
        Binding("down", "cursor_down", "", show=False),
        Binding("up", "cursor_up", "", show=False),
        Binding("pagedown", "page_down", "", show=False),
        Binding("pageup", "page_up", "", show=False),
        Binding("ctrl+home", "scroll_top", "", show=False),
        Binding("ctrl+end", "scroll_bottom", "", show=False),
    ]

    COMPONENT_CLASSES = {
        "measure-table--header",
        "measure-table--cursor",
        "measure-table--hover",
        "measure-table--even-row",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sort_column = "number"
        self._measures: list[MeasureView] = []
        self._by_number: dict[str, MeasureView] = {}
        self._positions: dict[str, int] = {}  # number -> index in _measures
        self._natural: dict[str, int] = {}
        self._layout = Layout((0,) * len(COLUMNS))
        self._layout_width = 0  # the width _layout was fitted to
        self._cursor = 0
        self._hover = -1  # the row under the mouse, -1: none
        self._shown_number: str | None = None  # as last published
        self._lines: LRUCache[tuple[Any, ...], Strip] = LRUCache(LINE_CACHE_SIZE)
        self._paint_styles: tuple[Style, ...] | None = None
        self.cursor_moved: Signal[str | None] = Signal(self, "cursor_moved")

    # --- the rows ----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._measures)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def hover_row(self) -> int:
        return self._hover

    @property
    def columns(self) -> Layout:
        """The columns as they are painted now."""
        return self._layout

    @property
    def current_number(self) -> str | None:
        if not self._measures:
            return None
        return self._measures[self._cursor].number

    def measure(self, number: str) -> MeasureView | None:
        # By number, not by scanning the list: asked for several times per key (check_action).
        return self._by_number.get(number)

    def get_row_index(self, number: str) -> int:
        return self._positions[number]

    def get_row(self, number: str) -> tuple[str, ...]:
        """The cells of measure `number`, uncut (the line shows them fitted to the columns)."""
        return cells_of(self._by_number[number])

    def get_row_at(self, index: int) -> tuple[str, ...]:
        return cells_of(self._measures[index])

    def line_text(self, number: str) -> str:
        """Measure `number`'s line as painted (without styles)."""
        return self._layout.line(self._shown_cells(self._by_number[number]))

    def show_measures(self, measures: list[MeasureView], *, keep: str | None = None) -> None:
        """Replace the rows, keeping the cursor on `keep` (or the current measure) if listed."""
        keep = keep or self.current_number
        self._keep(sorted(measures, key=SORT_KEYS[self.sort_column]))
        self._cursor = self._positions.get(keep, 0) if keep else 0
        self._hover = -1
        self._rows_changed()

    def show_all(self, measures: list[MeasureView], *, keep: str | None = None) -> None:
        """The complete list after its first page (read sorted by number)."""
        self.show_measures(measures, keep=keep or self.current_number)

    def update_measure(self, measure: MeasureView) -> None:
        """Show one measure's new state in its line (the line stays where it is)."""
        index = self._positions.get(measure.number)
        if index is None:
            return
        self._measures[index] = measure
        self._by_number[measure.number] = measure
        natural = self._natural
        self._measure_widths([measure])
        if natural != self._natural:
            self._relayout()
        self.refresh_line(index + 1)

    def go_to(self, number: str) -> bool:
        """Put the cursor on measure `number`; False if it is not listed."""
        index = self._positions.get(number)
        if index is None:
            return False
        self.move_cursor(row=index)
        return True

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on row `row` (clamped to the list) and scroll it into view."""
        if not self._measures:
            return
        row = max(0, min(row, len(self._measures) - 1))
        old, self._cursor = self._cursor, row
        if old != row:
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
        self._scroll_to_cursor()
        self._publish()

    def _keep(self, measures: list[MeasureView]) -> None:
        """The measures shown, in row order, and indexed by number."""
        self._measures = measures
        self._by_number = {m.number: m for m in measures}
        self._positions = {m.number: index for index, m in enumerate(measures)}
        self._natural = {}
        self._measure_widths(measures)

    def _measure_widths(self, measures: list[MeasureView]) -> None:
        """The longest cell of each column (for the layout), over `measures` and the ones
        measured before.  A column stops looking once it has a cell as wide as it may get
        (at 10,000 measures the list arrives while the user may already press keys)."""
        natural = dict(self._natural)
        statuses = {m.status for m in measures}
        for key, value in (
            ("number", max((len(m.number) for m in measures), default=0)),
            ("status", max((len(status.label) for status in statuses), default=0)),
            ("unit", _widest(measures, lambda m: cell_len(printable(m.unit)), UNIT_WIDTH)),
            (
                "milestone",
                _widest(
                    measures,
                    lambda m: cell_len(printable(milestone_cell(m))) if m.next_milestone else 0,
                    MILESTONE_WIDTH,
                ),
            ),
            (
                "date",
                _widest(
                    measures,
                    lambda m: len(milestone_date(m)) if m.next_milestone else 0,
                    DATE_WIDTH,
                ),
            ),
            ("delay", _widest(measures, lambda m: len(delay_cell(m)) if m.open_delays else 0, 7)),
        ):
            natural[key] = max(natural.get(key, 0), value)
        self._natural = natural

    def _rows_changed(self) -> None:
        self._relayout()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._measures) + 1)
        self._update_title()
        self._scroll_to_cursor()
        self.refresh()
        self._publish()

    def _relayout(self) -> None:
        self._fit(self.scrollable_content_region.width)
        self.refresh()

    def _fit(self, width: int) -> None:
        if width > 0 and self._natural:
            self._layout = Layout.fit(width, self._natural)
            self._layout_width = width

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._measures) + 1)
        self._scroll_to_cursor()

    def _publish(self) -> None:
        number = self.current_number
        if number != self._shown_number:
            self._shown_number = number
            self.cursor_moved.publish(number)

    def _scroll_to_cursor(self) -> None:
        rows = self.scrollable_content_region.height - 1  # below the header
        if rows <= 0:
            return
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + rows:
            self.scroll_to(y=self._cursor - rows + 1, animate=False)

    # --- painting ----------------------------------------------------------------------

    def _shown_cells(self, m: MeasureView) -> tuple[str, ...]:
        cells = cells_of(m)
        if self._layout.short_status or self._layout.date_only:
            number, status, title, unit, milestone, delay = cells
            if self._layout.short_status and len(status) > self._layout.widths[1]:
                status = SHORT_LABELS[m.status]
            if self._layout.date_only:
                milestone = milestone_date(m)
            cells = (number, status, title, unit, milestone, delay)
        return cells

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.scrollable_content_region.width
        if width != self._layout_width:
            # Rows shown before the list had its size (the first page, before the first
            # paint): fitted now, so that the first paint has them.
            self._fit(width)
        # The styles once per paint, not once per line (rich_style walks the DOM).
        self._paint_styles = self._line_styles()
        try:
            return super().render_lines(crop)
        finally:
            self._paint_styles = None

    def render_line(self, y: int) -> Strip:
        # Outside a paint (a test reading one line): the styles now.
        base, header, even, cursor, hover = self._paint_styles or self._line_styles()
        width = self.scrollable_content_region.width
        layout = self._layout
        if y == 0:
            key: tuple[Any, ...] = ("header", layout, width, header)
            strip = self._lines.get(key)
            if strip is None:
                strip = self._strip(layout.line(layout.labels()), width, header)
                self._lines[key] = strip
            return strip
        index = round(self.scroll_y) + y - 1
        if not 0 <= index < len(self._measures):
            return Strip.blank(width, base)
        if index == self._cursor and self.show_cursor:
            style = cursor
        elif index == self._hover:
            style = hover
        else:
            style = even if index % 2 else base
        cells = self._shown_cells(self._measures[index])
        key = (cells, layout, width, style)
        strip = self._lines.get(key)
        if strip is None:
            strip = self._strip(layout.line(cells), width, style)
            self._lines[key] = strip
        return strip

    def _line_styles(self) -> tuple[Style, Style, Style, Style, Style]:
        """The plain, header, even-row, cursor and hover styles of a line."""
        base = self.rich_style
        header, even, cursor, hover = (
            base + self.get_component_rich_style(f"measure-table--{part}")
            for part in ("header", "even-row", "cursor", "hover")
        )
        return base, header, even, cursor, hover

    @staticmethod
    def _strip(text: str, width: int, style: Style) -> Strip:
        # User text as a Segment: never read as markup.
        return Strip([Segment(fit(text, width), style)], width)

    @property
    def show_cursor(self) -> bool:
        return bool(self._measures)

    # --- keys and the mouse --------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + max(self.scrollable_content_region.height - 2, 1))

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - max(self.scrollable_content_region.height - 2, 1))

    def action_scroll_top(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(row=len(self._measures) - 1)

    def action_next_sort(self) -> None:
        keys = [key for key, _ in COLUMNS]
        self.sort_by(keys[(keys.index(self.sort_column) + 1) % len(keys)])

    def sort_by(self, column: str) -> None:
        self.sort_column = column
        self.show_measures(self._measures)

    def _row_at(self, event: events.MouseEvent) -> tuple[int, int] | None:
        """(x, row) of the mouse within the lines (row -1: the header), or None."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        if offset.y == 0:
            return offset.x, -1
        return offset.x, round(self.scroll_y) + offset.y - 1

    def on_click(self, event: events.Click) -> None:
        at = self._row_at(event)
        if at is None:
            return
        x, row = at
        if row == -1:
            column = self._layout.column_at(x)
            if column is not None:
                self.sort_by(column)
        elif 0 <= row < len(self._measures):
            self.move_cursor(row=row)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        at = self._row_at(event)
        self._set_hover(at[1] if at and 0 <= at[1] < len(self._measures) else -1)

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(-1)

    def _set_hover(self, row: int) -> None:
        if row != self._hover:
            if self._hover >= 0:
                self.refresh_line(self._hover + 1)
            self._hover = row
            if row >= 0:
                self.refresh_line(row + 1)

    def refresh_line(self, y: int) -> None:
        """Repaint line `y` of the list (0: the header), wherever the list is scrolled."""
        top = round(self.scroll_y)
        if y == 0:
            self.refresh(Region(0, 0, self.size.width, 1))
        elif y - top >= 1:  # rows scrolled above the view are not painted
            super().refresh_line(y)

    def _update_title(self) -> None:
        label = dict(COLUMNS)[self.sort_column]
        self.border_title = f"Maßnahmen ({len(self._measures)}) – sortiert nach {label}"
