"""Helpers for the Pilot tests of the terminal UI: read what the screen shows, open a second
catalogue on the same database file (another "process"), and move to a measure."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.segment import ControlType
from rich.style import Style
from textual._compositor import CompositorUpdate
from textual._styles_cache import StylesCache
from textual.app import App
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import DataTable, Input, Static

from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database
from koordinator.core.views import MeasureDetail
from koordinator.tui.screens.main import MainScreen
from koordinator.tui.widgets import FieldList, MeasureDetails, MeasureTable, StatusLine

# The table's columns, in the order MeasureTable.COLUMNS gives them.
NUMBER, STATUS, TITLE, UNIT, MILESTONE, DELAY = range(6)


def plain(content: object) -> str:
    """What a Static's content (str, Rich Text or Group) reads as, without styles."""
    buffer = io.StringIO()
    Console(width=200, file=buffer, color_system=None, legacy_windows=False).print(content)
    return buffer.getvalue()


def main_screen(app: App[None]) -> MainScreen:
    return next(s for s in reversed(app.screen_stack) if isinstance(s, MainScreen))


def table(app: App[None]) -> MeasureTable:
    return main_screen(app).query_one(MeasureTable)


def row(app: App[None], number: str) -> list[str]:
    """The cells of measure `number` as the table shows them."""
    return [str(cell) for cell in table(app).get_row(number)]


def status_word(app: App[None], number: str) -> str:
    return row(app, number)[STATUS]


def row_numbers(app: App[None]) -> list[str]:
    """The measure numbers in the order the table shows them."""
    measures = table(app)
    return [str(measures.get_row_at(index)[NUMBER]) for index in range(measures.row_count)]


def current_number(app: App[None]) -> str | None:
    return table(app).current_number


def details_text(app: App[None]) -> str:
    """The details pane's text."""
    return main_screen(app).query_one(MeasureDetails).text


def details_title(app: App[None]) -> str:
    """The first line of the details pane: "<number>  <title>"."""
    return details_text(app).splitlines()[0]


def field_labels(app: App[None]) -> list[str]:
    fields = main_screen(app).query_one(FieldList)
    return [str(fields.get_option_at_index(i).prompt) for i in range(fields.option_count)]


def status_line(app: App[None]) -> str:
    """What the line above the footer confirms ("Gespeichert: ..."), or ""."""
    return main_screen(app).query_one(StatusLine).text


def notifications(app: App[None]) -> list[str]:
    """The messages of the notifications currently shown (newest last)."""
    return [notification.message for notification in app._notifications]


def error_text(app: App[None], input_id: str) -> str:
    """The error line a dialog shows beside input `input_id` ("" when hidden or empty)."""
    error = app.screen.query_one(f"#{input_id}-error", Static)
    if not error.has_class("-shown") or not error.display:
        return ""
    return plain(error.content).strip()


async def select(pilot: Pilot[None], number: str) -> None:
    """Put the row cursor on measure `number` (as the arrow keys would) and let it settle."""
    measures = table(pilot.app)
    measures.move_cursor(row=measures.get_row_index(number))
    await pilot.pause()
    assert measures.current_number == number


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type `text` key by key into whatever has the focus."""
    await pilot.press(*text)


@contextmanager
def other_catalogue(path: Path, author: str = "kollegin") -> Iterator[Catalogue]:
    """A second connection to the same database file, as another process would have."""
    database = open_database(DatabaseTarget(path))
    try:
        yield Catalogue(database, author=author)
    finally:
        database.close()


def read_measure(path: Path, number: str) -> MeasureDetail:
    """The measure as the database holds it, read through a fresh connection."""
    with other_catalogue(path, author="leserin") as catalogue:
        return catalogue.measure(number)


async def fill(pilot: Pilot[None], input_id: str, value: str) -> None:
    """Put `value` into input `input_id` of the current screen (quicker than typing it)."""
    box = pilot.app.screen.query_one(f"#{input_id}", Input)
    box.value = value
    await pilot.pause()


def screen_text(app: App[None]) -> str:
    """The text of the current screen exactly as the terminal would show it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def input_value(app: App[None], input_id: str) -> str:
    """What input `input_id` of the current screen (a dialog) holds."""
    return app.screen.query_one(f"#{input_id}", Input).value


def bindings_of(owner: type) -> list[Binding]:
    """The `Binding`s a screen or widget class declares (typed, for the tests)."""
    return [binding for binding in owner.BINDINGS if isinstance(binding, Binding)]


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20
) -> None:
    """Pause until `condition()` holds (a worker has read the list, a search has listed its
    hits).  The bound is generous: a slow machine waits longer instead of failing."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.05)


class Terminal:
    """The cells of a terminal that the app's screen updates are written to.

    `screen_text` renders what the screen's widgets would paint now; this holds what was
    sent (only the regions the app considered changed), so a line that the app forgot to
    repaint shows here with its old content or highlight.
    """

    def __init__(self, width: int, height: int) -> None:
        self.cells = [[(" ", Style.null())] * width for _ in range(height)]
        self.written: set[int] = set()  # the lines written to (clear it to watch the next)

    @classmethod
    def attach(cls, app: App[None], size: tuple[int, int]) -> Terminal:
        """A terminal of `size` receiving what `app` displays (call before run_test)."""
        terminal = cls(*size)
        display = app._display

        def display_and_record(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate) and app._running and not app._batch_count:
                terminal.write(renderable, app.console)
            display(screen, renderable)

        app._display = display_and_record  # type: ignore[method-assign]
        return terminal

    def write(self, update: CompositorUpdate, console: Console) -> None:
        x = y = 0
        for segment in update.__rich_console__(console, console.options):
            if segment.control:
                for control in segment.control:
                    if control[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = int(control[1]), int(control[2])
                continue
            for character in segment.text:
                if character == "\n":
                    x, y = 0, y + 1
                    continue
                width = cell_len(character)
                if width == 0 and 0 <= y < len(self.cells) and 0 < x <= len(self.cells[y]):
                    previous, style = self.cells[y][x - 1]  # a combining accent
                    self.cells[y][x - 1] = (previous + character, style)
                    continue
                if 0 <= y < len(self.cells) and 0 <= x < len(self.cells[y]):
                    self.written.add(y)
                    self.cells[y][x] = (character, segment.style or Style.null())
                    if width == 2 and x + 1 < len(self.cells[y]):
                        self.cells[y][x + 1] = ("", segment.style or Style.null())
                x += width

    def resize(self, width: int, height: int) -> None:
        """A terminal of the new size (the app repaints all of it after a resize)."""
        self.cells = [[(" ", Style.null())] * width for _ in range(height)]

    def text(self) -> str:
        return "\n".join("".join(character for character, _ in line) for line in self.cells)

    def line(self, y: int, start: int = 0, end: int | None = None) -> str:
        """The text of line `y`, or of its cells from `start` to `end`."""
        return "".join(character for character, _ in self.cells[y][start:end])

    def style(self, x: int, y: int) -> Style:
        return self.cells[y][x][1]


def cells(strips: Iterable[Strip]) -> list[list[tuple[str, Style]]]:
    """Strips as lines of (character, style) cells, as Terminal holds them: a wide
    character takes two cells (the second empty), an accent joins its letter's."""
    lines = []
    for strip in strips:
        line: list[tuple[str, Style]] = []
        for segment in strip:
            if segment.control:
                continue
            style = segment.style or Style.null()
            for character in segment.text:
                width = cell_len(character)
                if width == 0 and line:
                    line[-1] = (line[-1][0] + character, line[-1][1])
                    continue
                line.append((character, style))
                if width == 2:
                    line.append(("", style))
        lines.append(line)
    return lines


def assert_terminal_shows_the_screen(app: App[None], terminal: Terminal) -> None:
    """Every cell the terminal was sent is what the screen's widgets paint now: no region
    was left out of a repaint (text and style)."""
    screen = cells(app.screen._compositor.render_strips())
    for y, (shown, painted) in enumerate(zip(terminal.cells, screen, strict=True)):
        assert [c for c, _ in shown] == [c for c, _ in painted], f"line {y}: text"
        for x, ((_, shown_style), (_, painted_style)) in enumerate(
            zip(shown, painted, strict=True)
        ):
            assert shown_style == painted_style, f"line {y}, column {x}: {terminal.line(y)!r}"


def assert_details_lines_as_textual(details: MeasureDetails) -> None:
    """The details pane's lines, from its caches, are those Textual builds from scratch
    (an empty StylesCache: nothing spliced, every line built around its content)."""
    whole = Region(0, 0, *details.region.size)
    ours = cells(details.render_lines(whole))
    cache = details._styles_cache
    try:
        details._styles_cache = StylesCache()
        assert ours == cells(details.render_lines(whole))
    finally:
        details._styles_cache = cache


# DataTable's render caches: swapped for empty ones to render a reference from scratch.
RENDER_CACHES = ("_row_render_cache", "_cell_render_cache", "_row_renderable_cache", "_line_cache")


def assert_table_lines_as_datatable(measures: MeasureTable) -> None:
    """The table's visible lines, from its caches, are those DataTable renders from scratch
    (its own _render_line, with empty caches: nothing MeasureTable cached or prepared)."""
    width = measures.size.width
    scroll_x, scroll_y = measures.scroll_offset
    lines = [measures.render_line(y) for y in range(measures.size.height)]
    caches = {name: getattr(measures, name) for name in RENDER_CACHES}
    try:
        for name in RENDER_CACHES:
            setattr(measures, name, LRUCache(1000))
        for y, ours in enumerate(lines):
            line = y + scroll_y if y >= measures.header_height else y
            datatable = DataTable._render_line(
                measures, line, scroll_x, scroll_x + width, measures.rich_style
            )
            assert cells([ours]) == cells([datatable]), f"table line {y}"
    finally:
        for name, cache in caches.items():
            setattr(measures, name, cache)


@dataclass(frozen=True)
class PaintedRow:
    """A measure's row as the terminal shows it."""

    number: str
    text: str
    cursor: bool  # painted in the cursor's colours
    hover: bool  # painted in the mouse hover's colours


def painted_rows(app: App[None], terminal: Terminal) -> list[PaintedRow]:
    """The table's rows on the terminal, top to bottom (after checking that the terminal
    shows what the screen paints, and the table what DataTable would)."""
    assert_terminal_shows_the_screen(app, terminal)
    measures = table(app)
    assert_table_lines_as_datatable(measures)
    region = measures.scrollable_content_region
    cursor = measures.get_component_rich_style("datatable--cursor").bgcolor
    hover = measures.get_component_rich_style("datatable--hover").bgcolor
    rows = []
    for y in range(region.y + measures.header_height, region.bottom):
        text = terminal.line(y, region.x, region.right)
        if not text.strip():
            continue  # below the last row
        background = terminal.style(region.x + 1, y).bgcolor
        rows.append(PaintedRow(text.split()[0], text, background == cursor, background == hover))
    return rows


def highlighted(rows: list[PaintedRow]) -> list[str]:
    """The numbers of the rows painted with the cursor."""
    return [row.number for row in rows if row.cursor]
