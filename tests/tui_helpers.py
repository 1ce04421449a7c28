"""Helpers for the Pilot tests of the terminal UI: read what the screen shows, open a second
catalogue on the same database file (another "process"), and move to a measure."""

from __future__ import annotations

import html
import io
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial, wraps
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.drivers.headless_driver import HeadlessDriver
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input, Static

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
    """The messages of the notifications currently shown (newest last): those the app
    raised through `App.notify` that have not timed out or been cleared."""
    return [n.message for n in shown_notifications(app)]


def shown_notifications(app: App[None]) -> list[Notification]:
    """The notifications currently shown, with their title and severity (newest last)."""
    return [n for n in _raised.get(app, []) if not n.has_expired]


# Every App's notifications, as `App.notify` is asked for them (Textual keeps its own list
# private).
_raised: WeakKeyDictionary[App[Any], list[Notification]] = WeakKeyDictionary()
_notify = App.notify
_clear_notifications = App.clear_notifications


@wraps(_notify)
def _recording_notify(self: App[Any], message: str, *args: Any, **kwargs: Any) -> None:
    _notify(self, message, *args, **kwargs)
    timeout = kwargs.get("timeout")
    _raised.setdefault(self, []).append(
        Notification(
            message,
            kwargs.get("title", ""),
            kwargs.get("severity", "information"),
            self.NOTIFICATION_TIMEOUT if timeout is None else timeout,
        )
    )


@wraps(_clear_notifications)
def _recording_clear(self: App[Any]) -> None:
    _clear_notifications(self)
    _raised.pop(self, None)


App.notify = _recording_notify  # type: ignore[method-assign]
App.clear_notifications = _recording_clear  # type: ignore[method-assign]


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
    """The text of the current screen exactly as the terminal would show it (read from
    Textual's SVG screenshot, its public picture of the screen)."""
    return "\n".join("".join(line) for line in svg_lines(app.export_screenshot(), app.size))


_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([0-9.]+)" y="[0-9.]+" textLength="[0-9.]+" '
    r'clip-path="url\(#[^)]*-line-([0-9]+)\)">([^<]*)</text>'
)
# Rich's export_svg: a cell is 0.61 of its 20-pixel font size wide.
SVG_CHAR_WIDTH = 20 * 0.61


def svg_lines(svg: str, size: tuple[int, int]) -> list[list[str]]:
    """The cells of an SVG screenshot of a screen of `size`, line by line (a wide
    character takes two cells, the second empty)."""
    width, height = size
    lines = [[" "] * width for _ in range(height)]
    for x, y, text in _SVG_TEXT.findall(svg):
        column, line = round(float(x) / SVG_CHAR_WIDTH), int(y)
        # Rich writes a space as a no-break space (&#160;).
        for character in html.unescape(text).replace("\xa0", " "):
            if character == "\n":
                continue  # the line's end
            cells = cell_len(character)
            if cells == 0 and column > 0:
                lines[line][column - 1] += character
                continue
            if 0 <= column < width:
                lines[line][column] = character
                if cells == 2 and column + 1 < width:
                    lines[line][column + 1] = ""
            column += cells
    return lines


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

    `attach` gives the app a driver that is Textual's headless one except that the app
    writes to it (the escape sequences a real terminal gets), and this decodes them: a line
    that the app forgot to repaint shows here with its old content or highlight.
    """

    def __init__(self, width: int, height: int) -> None:
        self.cells = [[(" ", Style.null())] * width for _ in range(height)]
        self.written: set[int] = set()  # the lines written to (clear it to watch the next)
        self._x = self._y = 0
        self._style = Style.null()

    @classmethod
    def attach(cls, app: App[None], size: tuple[int, int]) -> Terminal:
        """A terminal of `size` receiving what `app` displays (call before run_test)."""
        terminal = cls(*size)
        app.driver_class = type("TerminalDriver", (RecordingDriver,), {"terminal": terminal})
        # Textual's own driver class is only used for a test that is not headless.
        app.run_test = partial(type(app).run_test, app, headless=False)  # type: ignore[method-assign]
        return terminal

    def write(self, data: str) -> None:
        for match in _ANSI.finditer(data):
            params, command, text = match.groups()
            if text:
                self._put(text)
            elif command == "H":
                row, _, column = (params or "1;1").partition(";")
                self._y, self._x = int(row or 1) - 1, int(column or 1) - 1
            elif command == "m":
                self._style = _sgr_style(params)

    def _put(self, text: str) -> None:
        for character in text:
            if character == "\n":
                self._x, self._y = 0, self._y + 1
                continue
            x, y = self._x, self._y
            width = cell_len(character)
            if width == 0 and 0 <= y < len(self.cells) and 0 < x <= len(self.cells[y]):
                previous, style = self.cells[y][x - 1]  # a combining accent
                self.cells[y][x - 1] = (previous + character, style)
                continue
            if 0 <= y < len(self.cells) and 0 <= x < len(self.cells[y]):
                self.written.add(y)
                self.cells[y][x] = (character, self._style)
                if width == 2 and x + 1 < len(self.cells[y]):
                    self.cells[y][x + 1] = ("", self._style)
            self._x += width

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


class RecordingDriver(HeadlessDriver):
    """Textual's headless driver, but not headless: the app writes its updates, which go
    to `terminal`."""

    terminal: Terminal

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        self.terminal.write(data)


_ANSI = re.compile(r"\x1b\[([0-9;?<>=]*)([A-Za-z@~])|\x1b[^\[]|([^\x1b]+)")


@cache
def _sgr_style(params: str) -> Style:
    """The style an SGR sequence ("\\x1b[1;38;2;...m") sets, as Rich decodes it."""
    spans = Text.from_ansi(f"\x1b[{params}mX").spans
    return Style.combine(
        [Style.null(), *(span.style for span in spans if isinstance(span.style, Style))]
    )


async def assert_terminal_shows_the_screen(pilot: Pilot[None], terminal: Terminal) -> None:
    """Every cell the terminal was sent is what the screen's widgets paint now (text and
    style): the whole screen is repainted, onto the same terminal, and must change nothing.
    (No region was left out of a repaint.)"""
    shown = [list(line) for line in terminal.cells]
    written = set(terminal.written)
    pilot.app.screen.refresh()
    await pilot.pause()
    terminal.written = written
    for y, (before, painted) in enumerate(zip(shown, terminal.cells, strict=True)):
        assert [c for c, _ in before] == [c for c, _ in painted], f"line {y}: text"
        for x, ((_, before_style), (_, painted_style)) in enumerate(
            zip(before, painted, strict=True)
        ):
            assert before_style == painted_style, f"line {y}, column {x}: {terminal.line(y)!r}"


@dataclass(frozen=True)
class PaintedRow:
    """A measure's row as the terminal shows it."""

    number: str
    text: str
    cursor: bool  # painted in the cursor's colours
    hover: bool  # painted in the mouse hover's colours


async def painted_rows(pilot: Pilot[None], terminal: Terminal) -> list[PaintedRow]:
    """The table's rows on the terminal, top to bottom (after checking that the terminal
    shows what the screen paints, and each row what the table says it holds)."""
    app = pilot.app
    await assert_terminal_shows_the_screen(pilot, terminal)
    measures = table(app)
    region = measures.scrollable_content_region
    cursor = terminal_colour(measures, "measure-table--cursor")
    hover = terminal_colour(measures, "measure-table--hover")
    rows = []
    for y in range(region.y + HEADER_LINES, region.bottom):
        text = terminal.line(y, region.x, region.right)
        if not text.strip():
            continue  # below the last row
        number = text.split()[0]
        assert text == measures.line_text(number), f"line {y}"
        background = terminal.style(region.x + 1, y).bgcolor
        rows.append(PaintedRow(number, text, background == cursor, background == hover))
    return rows


def terminal_colour(measures: MeasureTable, component: str) -> Any:
    """The background a line in `component`'s style (cursor, hover) has on the terminal."""
    style = measures.rich_style + measures.get_component_rich_style(component)
    return _sgr_style(style.render("X").split("m", 1)[0][2:] if style.bgcolor else "0").bgcolor


# The table's header: one line above the rows.
HEADER_LINES = 1


def highlighted(rows: list[PaintedRow]) -> list[str]:
    """The numbers of the rows painted with the cursor."""
    return [row.number for row in rows if row.cursor]
