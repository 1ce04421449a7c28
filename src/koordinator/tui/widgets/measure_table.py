"""The measures table: number, title, status as a word, unit, next milestone, delay marker."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.events import Key
from textual.geometry import Region
from textual.signal import Signal
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from koordinator.core.dates import from_iso
from koordinator.core.numbers import number_key
from koordinator.core.text import clip, printable
from koordinator.core.views import MeasureView
from koordinator.core.workflow import REPORT_ORDER

if TYPE_CHECKING:
    from textual.cache import LRUCache

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


# Long cells are clipped so that every column fits a normal terminal; the details pane
# shows the full text.
TITLE_WIDTH = 30
UNIT_WIDTH = 12
MILESTONE_WIDTH = 32


# The table's cursor actions that it runs as soon as their key reaches it (see
# MeasureTable.on_key).
QUICK_ACTIONS = frozenset({"cursor_down", "cursor_up"})

# Rows added to the table at a time, and how close to its last row the cursor or the view
# may come before the next ones are added (see MeasureTable._load_rows).
PAGE_ROWS = 200
LOOKAHEAD_ROWS = 60


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


def delay_cell(measure: MeasureView) -> str:
    if not measure.open_delays:
        return ""
    return "offen" if measure.open_delays == 1 else f"{measure.open_delays} offen"


def _cell(value: str) -> Text:
    """A cell's text as it is: DataTable reads a str cell as Rich markup, so a title with
    "[Beta]" lost its brackets and one with "[/]" crashed the app.  (Single-line and
    unwrapped, as DataTable formats a str cell in a row of height 1.)"""
    return Text(value, end="", no_wrap=True)


def _cells(m: MeasureView) -> tuple[str, ...]:
    """A measure's cells, in the order of COLUMNS (a control character as its escape)."""
    return (
        m.number,
        m.status.label,
        clip(printable(m.title), TITLE_WIDTH),
        clip(printable(m.unit), UNIT_WIDTH),
        clip(printable(milestone_cell(m)), MILESTONE_WIDTH),
        delay_cell(m),
    )


def _has_line_api() -> bool:
    """Whether DataTable renders its lines through `_render_line(y, x1, x2, base_style)`, the
    private method (Textual 8) that MeasureTable._render_line puts a cache in front of."""
    render_line = getattr(DataTable, "_render_line", None)
    if render_line is None:
        return False
    return list(inspect.signature(render_line).parameters) == [
        "self",
        "y",
        "x1",
        "x2",
        "base_style",
    ]


class MeasureTable(DataTable[Text]):
    """Shows measures; the row key is the measure number.  Sorting is by one column."""

    BINDINGS = [
        Binding("home", "scroll_top", "Erste Maßnahme", show=False),
        Binding("end", "scroll_bottom", "Letzte Maßnahme", show=False),
        Binding("j", "cursor_down", "Runter", show=False),
        Binding("k", "cursor_up", "Hoch", show=False),
        Binding("o", "next_sort", "Sortieren", id="sort", show=False),
    ]

    _paint_style: Style | None = None  # rich_style while render_lines runs

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.sort_column = "number"
        self._measures: list[MeasureView] = []
        self._by_number: dict[str, MeasureView] = {}
        self._positions: dict[str, int] = {}  # number -> index in _measures
        # Published the moment the cursor row changes (with the new measure number): the
        # screen can then update the details before the next frame, so that the moved
        # cursor and the new details are painted together.  DataTable.RowHighlighted
        # arrives only after the table's repaint, a frame (up to 1/60 s) later.
        self.cursor_moved: Signal[str | None] = Signal(self, "cursor_moved")
        # Whether the screen wants the next key itself (see on_key); set by the screen.
        self.keys_taken: Callable[[], bool] = lambda: False
        self._preparing = False  # _prepare_next_cursor_rows is scheduled
        self._downwards = True  # the cursor's last move
        self._placed = False  # the cursor was put on its row, not moved by one

    def render_lines(self, crop: Region) -> list[Strip]:
        # DataTable.render_line reads self.rich_style for every line it is asked for, and
        # that walks the DOM (~40 us; 22 lines when the table scrolls): within one paint
        # it cannot change, so it is read once.
        self._paint_style = super().rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._paint_style = None

    @property
    def rich_style(self) -> Style:
        if self._paint_style is not None:
            return self._paint_style
        return super().rich_style

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """One line of the table, cached by whether it is the cursor and the hover row.

        DataTable keys its line cache on the coordinates of the cursor and of the mouse
        hover: after a cursor move no line is found there, and every line asked for is
        rendered again, cell by cell (all visible rows when the table scrolls by a row).
        With a row cursor a line depends on those coordinates only through "is this the
        cursor row, is this the hover row"; keyed so, all rows but the old and the new
        cursor row come from the cache.  The rest of DataTable's key is kept, and the
        entries live in DataTable's own line cache: whatever clears that (rows added,
        sorting, clearing, a theme, a resize, _replace_cells) clears these too.
        """
        cache_key = self._row_state_key(y, x1, x2, base_style)
        if cache_key is None:
            return super()._render_line(y, x1, x2, base_style)
        lines: Any = self._line_cache  # LRUCache typed for DataTable's own key tuples
        strip: Strip | None = lines.get(cache_key)
        if strip is None:
            strip = super()._render_line(y, x1, x2, base_style)
            lines[cache_key] = strip
        return strip

    def _row_state_key(self, y: int, x1: int, x2: int, base_style: Style) -> tuple[Any, ...] | None:
        """The cache key of line `y`: DataTable's key (Textual 8.2), with the cursor's and
        the hover's coordinates replaced by whether they are on this line's row.  None
        where that does not describe the line: another cursor type, no such line, or
        DataTable internals that are not there (the line is then rendered as DataTable
        renders it)."""
        if self.cursor_type != "row":
            return None  # a cell or column cursor highlights by column too
        try:
            row_key, _line_in_row = self._get_offsets(y)
            row = self._row_locations.get(row_key)
            return (
                "row-state",  # never equal to one of DataTable's own keys
                y,
                x1,
                x2,
                self.size.width,
                # The header is row -1 to DataTable (and the hover can be there).
                (-1 if row is None else row) == self.cursor_row,
                (-1 if row is None else row) == self.hover_row,
                base_style,
                self.show_cursor,
                self._show_hover_cursor,
                self._update_count,
                self._pseudo_class_state,
            )
        except LookupError:
            return None  # below the last row: blank, DataTable does not cache it
        except AttributeError:  # pragma: no cover - another Textual version
            return None

    def on_key(self, event: Key) -> None:
        """Move the cursor as soon as `j`/`k`/arrow reaches the table.

        Textual lets a key that no priority binding takes bubble from the focused widget
        to the app (here through three containers and the screen, one message queue after
        the other), and only then looks up the bindings, from the focused widget up: the
        table's own binding wins.  Its cursor keys are run here instead, which is what that
        lookup would do, a millisecond (of the 16 a move may take) sooner.  Not while
        `keys_taken()` says the screen wants the next key (its status line asks: the key is
        the answer).  Not with a keymap, which may have moved the table's keys (the app's
        lookup knows).
        """
        bindings = self._bindings.key_to_bindings.get(event.key, ())
        if (
            len(bindings) != 1
            or bindings[0].action not in QUICK_ACTIONS
            or bindings[0].priority
            or self.app._keymap
            or self.keys_taken()
        ):
            return
        event.stop()
        event.prevent_default()
        getattr(self, f"action_{bindings[0].action}")()

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)
        self._update_title()

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if old.row != new.row:
            self.cursor_moved.publish(self.current_number)
            self._near_the_end(new.row)
            self._prepare_after_refresh(new.row - old.row)

    def _prepare_after_refresh(self, step: int = 0) -> None:
        """Have _prepare_next_cursor_rows run once the screen is painted; `step` is the
        cursor's last move (0: the list was replaced)."""
        self._downwards = step >= 0
        self._placed = self._placed or abs(step) != 1
        if not self._preparing:
            self._preparing = True
            self.call_after_refresh(self._prepare_next_cursor_rows)

    def _set_hover_cursor(self, active: bool) -> None:
        # DataTable calls this with False on every cursor key, and repaints the hover row
        # each time; with no hover shown there is nothing to take away.
        if active or getattr(self, "_show_hover_cursor", True):
            super()._set_hover_cursor(active)

    def _prepare_next_cursor_rows(self) -> None:
        """Render the rows the next j or k will show, after the screen is painted: the row
        next to the cursor as it looks under the cursor (on both sides), the row a move on
        would scroll into view, and - if the cursor was put there rather than moved by one
        row (a new list, a page, End) - its row as it looks without the cursor.

        Rendering a row is DataTable's slowest step (every cell through Rich), and a cursor
        move needs a row it never rendered: the new cursor row.  DataTable caches a row by
        the cursor position it was rendered for; this renders those rows for the cursor
        position after the next move, with DataTable's own method and into its own cache
        (Textual 8 internals: if they are not there, nothing is prepared).  Not while rows
        or column widths wait for DataTable's update on idle: widths are not in its keys.
        """
        self._preparing = False
        downwards, placed, self._placed = self._downwards, self._placed, False
        if (
            self.cursor_type != "row"
            or not self.show_cursor
            or getattr(self, "_require_update_dimensions", True)
            or getattr(self, "_updated_cells", True)
        ):
            return
        row = self.cursor_row
        step = 1 if downwards else -1
        ahead = row + 2 * step
        rows = [(row + step, row + step), (row - step, row - step)]  # (row, cursor row)
        if placed:  # else its row was rendered without the cursor before it came
            rows += [(row, row + step), (row, row - step)]
        try:
            if self.is_valid_row_index(ahead) and not self.window_region.contains_region(
                self._get_row_region(ahead)
            ):
                rows.insert(1, (ahead, row + step))
            # Keyed and styled by the state now, as DataTable.render_lines would do it.
            self._pseudo_class_state = self.get_pseudo_class_state()
            base_style = self.rich_style  # as render_line passes it
            for neighbour, cursor_row in rows:
                if not (self.is_valid_row_index(neighbour) and self.is_valid_row_index(cursor_row)):
                    continue
                row_key = self._row_locations.get_key(neighbour)
                if row_key is None:
                    continue
                for line in range(self.rows[row_key].height):
                    self._render_line_in_row(
                        row_key,
                        line,
                        base_style,
                        cursor_location=Coordinate(cursor_row, self.cursor_column),
                        hover_location=self.hover_coordinate,
                    )
        except (AttributeError, TypeError):  # pragma: no cover - another Textual version
            return

    @property
    def current_number(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def show_measures(self, measures: list[MeasureView], *, keep: str | None = None) -> None:
        """Replace the rows, keeping the cursor on `keep` (or the current measure) if listed."""
        keep = keep or self.current_number
        self._keep(sorted(measures, key=SORT_KEYS[self.sort_column]))
        self.clear()
        self._load_rows(PAGE_ROWS)
        if keep is not None:
            self.go_to(keep)
        self._update_title()
        self._prepare_after_refresh()  # the first j after a new list, too

    def show_all(self, measures: list[MeasureView], *, keep: str | None = None) -> None:
        """The complete list after its first page: kept if the shown rows are its start."""
        shown = len(self._measures)
        if (
            self.sort_column == "number"
            and shown <= len(measures)
            and [m.number for m in measures[:shown]] == [m.number for m in self._measures]
        ):
            self._keep(measures)
            if keep is not None:
                self.go_to(keep)
            self._update_title()
        else:
            self.show_measures(measures, keep=keep)

    def go_to(self, number: str) -> bool:
        """Put the cursor on measure `number` (adding rows up to it); False if not listed."""
        if number not in self.rows:
            index = self._index_of(number)
            if index is None:
                return False
            self._load_rows(index + 1 + LOOKAHEAD_ROWS)
        row = self.get_row_index(number)
        if self.cursor_row != row:
            self.move_cursor(row=row)
        return True

    def _index_of(self, number: str) -> int | None:
        return self._positions.get(number)

    def _load_rows(self, count: int) -> None:
        """Have the first `count` measures (at most all) as rows of the table.

        A DataTable sizes every new row when it is idle (measuring every cell) and then
        renders its visible rows anew: 10,000 rows took 4 seconds in which no key was
        answered.  So rows are added when they are about to be needed: a page at a time
        as the cursor or the view comes near the last row, all of them for "End".
        """
        loaded = self.row_count
        if count > loaded:
            self._add_rows(self._measures[loaded:count])

    def _near_the_end(self, row: int) -> None:
        if row + LOOKAHEAD_ROWS >= self.row_count:
            self._load_rows(self.row_count + PAGE_ROWS)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolled (wheel, scrollbar) towards the last rows: more of them.
        self._near_the_end(round(new_value) + self.size.height)

    def action_scroll_bottom(self) -> None:
        self._load_rows(len(self._measures))
        super().action_scroll_bottom()

    def update_measure(self, measure: MeasureView) -> None:
        """Show one measure's new state in its row (the row stays where it is)."""
        index = self._index_of(measure.number)
        if index is None:
            return
        self._measures[index] = measure
        self._by_number[measure.number] = measure
        if measure.number not in self.rows:
            return  # not added yet: it will be, with these values
        changed = {
            key: after
            for (key, _label), before, after in zip(
                COLUMNS, self.get_row(measure.number), _cells(measure), strict=True
            )
            if before.plain != after
        }
        if changed:
            self._replace_cells(measure.number, changed)

    def _replace_cells(self, number: str, cells: dict[str, str]) -> None:
        """Put new values into one row and repaint that row only.

        DataTable.update_cell invalidates every render cache and the row order and offsets
        of all rows: at 10,000 rows the next paint then costs some 50 ms (rebuilding the
        order and offsets of every row and rendering every visible row anew).  Here only the
        cache entries of this row are dropped.  This relies on DataTable internals (Textual
        8): if they are not there, the public update_cell does the job, only slower.
        """
        try:
            data = self._data[RowKey(number)]
            # Two caches with differently typed keys, both keyed by row key first.
            caches: tuple[LRUCache[Any, Any], ...] = (
                self._cell_render_cache,
                self._row_render_cache,
            )
            row_renderables = self._row_renderable_cache
            lines = self._line_cache
        except AttributeError:  # pragma: no cover - another Textual version
            for key, value in cells.items():
                self.update_cell(number, key, _cell(value))
            return
        for key, value in cells.items():
            data[ColumnKey(key)] = _cell(value)
        index = self.get_row_index(number)
        # Cell and row caches are keyed by row key first; the row renderables by
        # (update count, row index); the lines by screen line (cheap to rebuild: all).
        # (Textual's LRUCache is no dict: it can't be iterated, only its keys().)
        for cache in caches:
            for cache_key in [k for k in cache.keys() if k[0] == number]:  # noqa: SIM118
                cache.discard(cache_key)
        for renderable_key in [k for k in row_renderables.keys() if k[1] == index]:  # noqa: SIM118
            row_renderables.discard(renderable_key)
        lines.clear()
        self.refresh_row(index)

    def _add_rows(self, measures: list[MeasureView]) -> None:
        for m in measures:
            self.add_row(*map(_cell, _cells(m)), key=m.number)

    def measure(self, number: str) -> MeasureView | None:
        # By number, not by scanning the list: asked for several times per key (check_action).
        return self._by_number.get(number)

    def _keep(self, measures: list[MeasureView]) -> None:
        """The measures shown, in row order, and indexed by number."""
        self._measures = measures
        self._by_number = {m.number: m for m in measures}
        self._positions = {m.number: index for index, m in enumerate(measures)}

    def action_next_sort(self) -> None:
        keys = [key for key, _ in COLUMNS]
        self.sort_by(keys[(keys.index(self.sort_column) + 1) % len(keys)])

    def sort_by(self, column: str) -> None:
        self.sort_column = column
        self.show_measures(self._measures)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _update_title(self) -> None:
        label = dict(COLUMNS)[self.sort_column]
        self.border_title = f"Maßnahmen ({len(self._measures)}) – sortiert nach {label}"


if not _has_line_api():  # pragma: no cover - another Textual version: DataTable's own caching
    del MeasureTable._render_line
