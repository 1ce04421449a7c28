"""The UI's dialogs ask when a status move or a new measure happened, today filled in
(issue 14, item 6): the status dialog (`s` Enter) and the new-measure dialog (`n`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.dates import LooseDate, local_today
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.dialogs import MeasureDialog, StatusDialog
from koordinator.tui.screens.main import MainScreen
from tui_helpers import (
    current_number,
    error_text,
    fill,
    input_value,
    notifications,
    other_catalogue,
    read_measure,
    select,
    status_line,
    status_word,
)

SIZE = (120, 40)
TODAY = LooseDate.from_date(local_today())
TOMORROW = LooseDate.from_date(local_today() + timedelta(days=1))


@asynccontextmanager
async def on_measure(
    catalogue: CatalogueApi, number: str
) -> AsyncIterator[tuple[App[None], Pilot[None]]]:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, number)
        yield app, pilot


def history_size(path: Path) -> int:
    with other_catalogue(path, author="leserin") as catalogue:
        return len(catalogue.history())


async def test_the_status_dialog_asks_the_day_of_the_move_with_today_filled_in(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s", "enter")
        assert isinstance(app.screen, StatusDialog)
        assert input_value(app, "on") == TODAY.german()
        await fill(pilot, "on", "03/2021")
        app.screen.query_one("#moves").focus()
        await pilot.press("e")  # a move that needs nothing more: saved at once, on that day
        assert isinstance(app.screen, MainScreen)
        assert status_word(app, "1.2") == "Etabliert"
        assert status_line(app) == (
            "Gespeichert: 1.2: Im Zeitplan → Etabliert (am 03/2021) – u: rückgängig"
        )
    event = read_measure(sample_path, "1.2").history[0]
    assert event.details == {"on": "2021-03"}
    assert event.summary == "Status: Im Zeitplan → Etabliert am 03/2021"


async def test_a_move_saved_with_today_states_no_other_day(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s", "enter", "e")
        assert status_line(app) == "Gespeichert: 1.2: Im Zeitplan → Etabliert – u: rückgängig"
    assert "on" not in read_measure(sample_path, "1.2").history[0].details


async def test_a_delay_of_a_dated_move_begins_on_its_day(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "3.2") as (app, pilot):
        await pilot.press("s", "v")
        assert isinstance(app.screen, StatusDialog)
        await fill(pilot, "on", "15.04.2021")
        await fill(pilot, "until", "12/2021")  # after the move's day: fine
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen), notifications(app)
    detail = read_measure(sample_path, "3.2")
    assert detail.measure.status == Status.DELAYED
    assert [(d.since, d.until) for d in detail.delays] == [("2021-04-15", "2021-12")]
    assert detail.history[0].details["on"] == "2021-04-15"


async def test_a_move_dated_after_today_is_refused_beside_the_date(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(sample_path)
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s", "enter")
        dialog = app.screen
        await fill(pilot, "on", TOMORROW.german())
        app.screen.query_one("#moves").focus()
        await pilot.press("e")
        assert app.screen is dialog
        assert "liegt nach heute" in error_text(app, "on")
        await fill(pilot, "on", "bald")
        await pilot.press("enter")
        assert app.screen is dialog
        assert "„bald“ ist kein Datum" in error_text(app, "on")
        await pilot.press("escape")
        assert status_word(app, "1.2") == "Im Zeitplan"
    assert history_size(sample_path) == before


async def test_the_new_measure_dialog_asks_when_it_was_taken_up(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "n")
        dialog = app.screen
        assert isinstance(dialog, MeasureDialog)
        assert input_value(app, "on") == TODAY.german()
        await fill(pilot, "title", "Digitale Bauakte")
        await fill(pilot, "on", TOMORROW.german())
        await pilot.press("enter")
        assert app.screen is dialog
        assert "liegt nach heute" in error_text(app, "on")
        await fill(pilot, "on", "03/2021")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert current_number(app) == "1.17"
    detail = read_measure(sample_path, "1.17")
    assert (detail.measure.title, detail.measure.origin_date) == ("Digitale Bauakte", "2021-03")
    assert detail.history[0].summary == "Maßnahme angelegt am 03/2021 (In Planung)"


async def test_editing_a_measure_asks_no_date(catalogue: CatalogueApi) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("e")
        assert isinstance(app.screen, MeasureDialog)
        assert not app.screen.query("#on")
        await pilot.press("escape")
