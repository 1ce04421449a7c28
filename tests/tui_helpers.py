"""Helpers for the Pilot tests of the terminal UI: read what the screen shows, open a second
catalogue on the same database file (another "process"), and move to a measure."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from textual.app import App
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Input, Static

from koordinator.core.catalogue import Catalogue
from koordinator.core.db import DatabaseTarget, open_database
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
