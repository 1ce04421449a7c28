"""Pilot tests of the editing keys: status (s), milestones (m, M), delays (d, D), measures
(n, e), undo (u, ctrl+z) and refresh (r, ctrl+r) against a temporary database.

Each test checks the database afterwards through a fresh connection and what the screen
shows: the row's cells, the details pane, the dialog's error lines and the notifications.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.dates import LooseDate, local_today
from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.dialogs import (
    ConfirmDialog,
    DelayDialog,
    MeasureDialog,
    MilestoneDialog,
    ResolveDialog,
    StatusDialog,
)
from koordinator.tui.dialogs.renumber_dialog import RenumberDialog
from koordinator.tui.screens.main import MainScreen
from koordinator.tui.widgets import StatusLine
from koordinator.tui.widgets import status_line as status_line_module
from tui_helpers import (
    DELAY,
    MILESTONE,
    STATUS,
    TITLE,
    current_number,
    details_text,
    error_text,
    field_labels,
    fill,
    input_value,
    main_screen,
    notifications,
    other_catalogue,
    read_measure,
    row,
    row_numbers,
    screen_text,
    select,
    status_line,
    status_word,
    type_text,
    wait_until,
)

SIZE = (120, 40)


@pytest.fixture(params=["lazy", "plain"])
def catalogue_form(request: pytest.FixtureRequest) -> str:
    """Both forms: the lazy one `koordinator` starts with (a change waits for its write
    side), and the plain one the UI gets where that cannot be (a URL, a new database)."""
    return str(request.param)


@asynccontextmanager
async def on_measure(
    catalogue: CatalogueApi, number: str
) -> AsyncIterator[tuple[App[None], Pilot[None]]]:
    """The app at SIZE, with the row cursor on measure `number`."""
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, number)
        yield app, pilot


def history_size(path: Path) -> int:
    with other_catalogue(path, author="leserin") as catalogue:
        return len(catalogue.history())


def offered_moves(app: App[None]) -> list[str]:
    """The moves the status dialog lists, or else those the status line asks about."""
    if isinstance(app.screen, StatusDialog):
        moves = app.screen.query_one("#moves", OptionList)
        return [str(moves.get_option_at_index(i).prompt) for i in range(moves.option_count)]
    line = main_screen(app).query_one(StatusLine)
    return [f"[{choice.key}] {choice.label}" for choice in line.choices]


def key_enabled(app: App[None], key: str) -> bool:
    """Whether `key` is active now (the footer hides or greys out keys that are not)."""
    binding = app.screen.active_bindings.get(key)
    return binding is not None and binding.enabled


# --- s: status --------------------------------------------------------------------------


async def test_s_asks_in_the_status_line_for_allowed_moves_only_and_s_e_saves_at_once(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s")
        assert isinstance(app.screen, MainScreen)  # no dialog for the everyday move
        moves = ["[e] Etabliert", "[v] Verzögert", "[l] In die Linie übergeben", "[x] Verworfen"]
        assert offered_moves(app) == moves
        assert "Status 1.2 „Im Zeitplan“ → [e] Etabliert  [v] Verzögert" in screen_text(app)
        # A letter of a move that is not allowed from "Im Zeitplan" ends the question and
        # writes nothing; so does Escape.
        await pilot.press("z")
        assert offered_moves(app) == []
        assert "Status 1.2 „" not in screen_text(app)
        await pilot.press("s", "escape")
        assert offered_moves(app) == []
        # So do the table's cursor keys: they answer the question, they do not move.
        for key in ("j", "down", "k"):
            await pilot.press("s", key)
            assert offered_moves(app) == []
        assert read_measure(sample_path, "1.2").measure.status == Status.ON_SCHEDULE
        assert current_number(app) == "1.2"  # the keys did not move the cursor either

        await pilot.press("s", "e")
        assert isinstance(app.screen, MainScreen)
        assert status_word(app, "1.2") == "Etabliert"
        assert current_number(app) == "1.2"
        assert "Status: Etabliert" in details_text(app)
        assert status_line(app) == "Gespeichert: 1.2: Im Zeitplan → Etabliert – u: rückgängig"
    detail = read_measure(sample_path, "1.2")
    assert detail.measure.status == Status.ESTABLISHED
    newest = detail.history[0]
    assert (newest.author, newest.from_status, newest.to_status) == (
        "testerin",
        Status.ON_SCHEDULE,
        Status.ESTABLISHED,
    )


async def test_a_saved_status_is_painted_in_its_row_the_details_and_the_status_line(
    catalogue: CatalogueApi,
) -> None:
    # What the terminal shows, not only the table's data: the row is repainted on its own
    # (without DataTable.update_cell), so a stale paint of the old status would show here.
    async with on_measure(catalogue, "1.2") as (app, pilot):

        def row_line() -> str:
            return next(
                line
                for line in screen_text(app).splitlines()
                if "Open Data Portal" in line and "FB 12" in line  # not the details' title
            )

        assert "Im Zeitplan" in row_line()
        await pilot.press("s", "e")
        await pilot.pause()
        assert "Etabliert" in row_line() and "Im Zeitplan" not in row_line()
        assert "Status: Etabliert" in screen_text(app)
        # Confirmed in the status line, painted; no toast covers the table.
        assert "✓ Gespeichert: 1.2: Im Zeitplan → Etabliert" in screen_text(app)
        assert not notifications(app)
        # The neighbours are painted as before, and the cursor moves on as usual.
        assert status_word(app, "1.1") == "Etabliert"
        await pilot.press("j")
        assert current_number(app) == "1.3"
        assert "1.3  " in screen_text(app)
        # The footer still offers the everyday keys after the dialog has closed.
        assert "Status" in screen_text(app).splitlines()[-1]


async def test_the_status_line_shows_the_newest_save_and_clears_itself(
    catalogue: CatalogueApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_line_module, "SHOWN_SECONDS", 60.0)
    async with on_measure(catalogue, "1.2") as (app, pilot):
        assert status_line(app) == ""
        await pilot.press("s", "e")
        assert status_line(app) == "Gespeichert: 1.2: Im Zeitplan → Etabliert – u: rückgängig"
        await pilot.press("j", "s", "z")
        assert status_line(app) == "Gespeichert: 1.3: Verzögert → Im Zeitplan – u: rückgängig"
        # A confirmation goes by itself (here after a short time, so the test is quick).
        monkeypatch.setattr(status_line_module, "SHOWN_SECONDS", 0.2)
        await pilot.press("j", "s", "z")
        await wait_until(pilot, lambda: status_line(app) == "")
        assert status_line(app) == ""
        assert "Gespeichert" not in screen_text(app)
        assert status_word(app, "1.4") == "Im Zeitplan"


async def test_a_title_with_tabs_is_confirmed_on_one_line(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    # The catalogue accepts tabs in titles (e.g. from the command line; line breaks it
    # refuses: test_tui_user_text.py).
    with other_catalogue(sample_path) as other:
        other.add_milestone("1.2", "Erste Zeile\tzweite\t\tZeile")
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("r")
        await wait_until(pilot, lambda: "Erste Zeile" in row(app, "1.2")[MILESTONE])
        await pilot.press("M", "enter")
        assert status_line(app).startswith("Gespeichert: 1.2: Meilenstein „Erste Zeile zweite")
        lines = screen_text(app).splitlines()
        assert len(lines) == SIZE[1]
        assert any(
            "✓ Gespeichert: 1.2: Meilenstein „Erste Zeile zweite Zeile“" in line for line in lines
        )


async def test_the_answer_to_the_status_question_is_no_other_key(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    # From "Verworfen" only p and z are moves: "e" (edit) and "x" (export) end the question
    # and open nothing; moving the cursor (a click on another row) ends it too.
    async with on_measure(catalogue, "4.10") as (app, pilot):
        for key in ("e", "x"):
            await pilot.press("s", key)
            assert isinstance(app.screen, MainScreen), key
            assert offered_moves(app) == []
        await pilot.press("s")
        assert offered_moves(app) == ["[p] In Planung", "[z] Im Zeitplan"]
        measures = main_screen(app).table
        measures.move_cursor(row=measures.cursor_row - 1)
        await pilot.pause()
        assert offered_moves(app) == []
        assert "Status 4.10 „" not in screen_text(app)
    assert read_measure(sample_path, "4.10").measure.status == Status.DROPPED


async def test_s_enter_opens_the_status_dialog_where_letters_and_arrows_choose(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s", "enter")
        assert isinstance(app.screen, StatusDialog)
        assert "Status 1.2 „" not in screen_text(app)  # the question is over
        assert offered_moves(app) == [
            "[e] Etabliert",
            "[v] Verzögert",
            "[l] In die Linie übergeben",
            "[x] Verworfen",
        ]
        # Letters of moves that are not allowed from "Im Zeitplan" do nothing here.
        await pilot.press("p", "z")
        assert isinstance(app.screen, StatusDialog)
        # The first move with a note: arrow keys, then the note, then Enter.
        await fill(pilot, "note", "Regelbetrieb seit Juni")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert status_word(app, "1.2") == "Etabliert"
    detail = read_measure(sample_path, "1.2")
    assert detail.measure.status == Status.ESTABLISHED
    assert detail.history[0].note == "Regelbetrieb seit Juni"


async def test_status_dialog_from_planning_offers_no_planning(catalogue: CatalogueApi) -> None:
    async with on_measure(catalogue, "1.11") as (app, pilot):
        await pilot.press("s")
        assert [move.split("] ")[1] for move in offered_moves(app)] == [
            "Im Zeitplan",
            "Etabliert",
            "Verzögert",
            "In die Linie übergeben",
            "Verworfen",
        ]
        await pilot.press("escape")


async def test_s_v_asks_for_the_delay_and_enter_saves_it_with_cause_corona(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "3.2") as (app, pilot):
        await pilot.press("s", "v")
        dialog = app.screen
        assert isinstance(dialog, StatusDialog)
        assert dialog.query_one("#delay-fields").display
        assert not dialog.query_one("#reason-fields").display
        assert app.focused is dialog.query_one("#since")
        assert input_value(app, "cause") == "Corona"
        await type_text(pilot, "03/2020")
        await fill(pilot, "until", "12/2021")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        cells = row(app, "3.2")
        assert cells[STATUS] == "Verzögert"
        assert cells[DELAY] == "offen"  # the open-delay marker
        assert "Corona, seit 03/2020, voraussichtlich bis 12/2021, offen" in details_text(app)
        assert status_line(app) == "Gespeichert: 3.2: Im Zeitplan → Verzögert – u: rückgängig"
    detail = read_measure(sample_path, "3.2")
    assert detail.measure.status == Status.DELAYED
    assert [(d.cause, d.since, d.until, d.is_open) for d in detail.delays] == [
        ("corona", "2020-03", "2021-12", True)
    ]


@pytest.mark.parametrize(
    ("keys", "until"),
    [(("s", "v"), "12/2021"), (("d",), "2021")],
    ids=["status-dialog", "delay-dialog"],
)
async def test_a_delay_target_before_today_is_refused_inside_the_dialog(
    catalogue: CatalogueApi, sample_path: Path, keys: tuple[str, ...], until: str
) -> None:
    # "Seit" left empty means today; a "bis" before today is invalid input, and invalid
    # input belongs beside its field with the dialog kept open (the Behaviour).
    before = history_size(sample_path)
    async with on_measure(catalogue, "3.2") as (app, pilot):
        await pilot.press(*keys)
        dialog = app.screen
        await fill(pilot, "until", until)
        await pilot.press("enter")
        assert app.screen is dialog, f"dialog closed; notifications: {notifications(app)}"
        assert "„bis“" in error_text(app, "until")
        assert status_word(app, "3.2") == "Im Zeitplan"
    assert history_size(sample_path) == before


async def test_s_l_without_unit_shows_the_error_beside_the_field_and_keeps_the_dialog(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(sample_path)
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s", "l")
        dialog = app.screen
        assert isinstance(dialog, StatusDialog)
        assert dialog.query_one("#unit-fields").display
        assert app.focused is dialog.query_one("#receiving-unit")
        await pilot.press("enter")
        assert app.screen is dialog
        assert error_text(app, "receiving-unit") == "Übernehmende Dienststelle fehlt"
        assert "Übernehmende Dienststelle fehlt" in screen_text(app)
        assert history_size(sample_path) == before
        assert read_measure(sample_path, "1.2").measure.status == Status.ON_SCHEDULE

        # Given the unit, the same dialog saves.
        await type_text(pilot, "FB 20")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert status_word(app, "1.2") == "In die Linie übergeben"
    detail = read_measure(sample_path, "1.2")
    assert detail.measure.status == Status.HANDED_OVER
    assert detail.history[0].details["receiving_unit"] == "FB 20"


async def test_s_x_needs_a_reason(catalogue: CatalogueApi, sample_path: Path) -> None:
    before = history_size(sample_path)
    async with on_measure(catalogue, "1.14") as (app, pilot):
        await pilot.press("s", "x")
        dialog = app.screen
        assert dialog.query_one("#reason-fields").display
        assert app.focused is dialog.query_one("#reason")
        await pilot.press("enter")
        assert app.screen is dialog
        assert error_text(app, "reason") == "Begründung fehlt"
        assert history_size(sample_path) == before

        await fill(pilot, "reason", "kein Bedarf mehr")
        await pilot.press("enter")
        assert status_word(app, "1.14") == "Verworfen"
        assert "Status: Verworfen" in details_text(app)
        assert "kein Bedarf mehr" in details_text(app)  # in the history
    detail = read_measure(sample_path, "1.14")
    assert detail.measure.status == Status.DROPPED
    assert detail.history[0].details["reason"] == "kein Bedarf mehr"


async def test_reopening_a_dropped_measure_needs_a_note(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(sample_path)
    async with on_measure(catalogue, "4.10") as (app, pilot):
        await pilot.press("s")
        assert offered_moves(app) == ["[p] In Planung", "[z] Im Zeitplan"]
        await pilot.press("z")
        dialog = app.screen
        assert app.focused is dialog.query_one("#note")
        await pilot.press("enter")
        assert app.screen is dialog
        assert "Begründung zum Wiederaufnehmen fehlt" in error_text(app, "note")
        assert history_size(sample_path) == before
        assert read_measure(sample_path, "4.10").measure.status == Status.DROPPED

        await fill(pilot, "note", "Land fördert das Ticket jetzt")
        await pilot.press("enter")
        assert status_word(app, "4.10") == "Im Zeitplan"
    detail = read_measure(sample_path, "4.10")
    assert detail.measure.status == Status.ON_SCHEDULE
    assert detail.history[0].note == "Land fördert das Ticket jetzt"


async def test_escape_cancels_the_status_dialog_without_writing(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(sample_path)
    async with on_measure(catalogue, "3.2") as (app, pilot):
        await pilot.press("s", "escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("s", "v")
        await fill(pilot, "cause", "Personalmangel")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert status_word(app, "3.2") == "Im Zeitplan"
        assert not [n for n in notifications(app) if n.startswith("3.2")]
    assert history_size(sample_path) == before
    detail = read_measure(sample_path, "3.2")
    assert detail.measure.status == Status.ON_SCHEDULE
    assert detail.delays == ()


# --- m / M: milestones ---------------------------------------------------------------------


async def test_the_next_milestone_cell_shows_the_due_date_and_the_overdue_mark(
    catalogue: CatalogueApi,
) -> None:
    # The issue: "next open milestone (with its date; overdue ones marked with text)".
    app = make_app(catalogue)
    async with app.run_test(size=(200, 60)):
        cell = row(app, "2.2")[MILESTONE]  # "Weitere Stadtteile mit öffentlichem WLAN", 2021
        assert "überfällig" in cell
        assert "2021" in cell, f"the table shows {cell!r}: the due date is cut off"


async def test_milestone_dialog_checks_title_and_date_then_saves(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(sample_path)
    async with on_measure(catalogue, "1.6") as (app, pilot):
        await pilot.press("m")
        dialog = app.screen
        assert isinstance(dialog, MilestoneDialog)
        assert app.focused is dialog.query_one("#title")
        await pilot.press("enter")
        assert app.screen is dialog
        assert error_text(app, "title") == "Titel fehlt"

        await fill(pilot, "title", "Pilotbetrieb")
        await fill(pilot, "due", "13/2021")
        await pilot.press("enter")
        assert app.screen is dialog
        assert error_text(app, "title") == ""  # the old error is gone
        assert "„13/2021“ ist kein Datum" in error_text(app, "due")
        assert app.focused is dialog.query_one("#due")
        assert history_size(sample_path) == before
        assert read_measure(sample_path, "1.6").milestones == ()

        await fill(pilot, "due", "06/2021")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        cell = row(app, "1.6")[MILESTONE]
        assert "Pilotbetrieb" in cell
        assert "überfällig" in cell  # today is after June 2021
        assert "Pilotbetrieb (fällig 06/2021, überfällig)" in details_text(app)
    milestones = read_measure(sample_path, "1.6").milestones
    assert [(m.title, m.due, m.done, m.overdue) for m in milestones] == [
        ("Pilotbetrieb", "2021-06", False, True)
    ]


async def test_shift_m_completes_the_next_open_milestone_and_is_off_where_none_is_open(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.1") as (app, pilot):
        assert not key_enabled(app, "M")
        before = history_size(sample_path)
        await pilot.press("M")
        assert history_size(sample_path) == before

        await select(pilot, "2.2")
        assert key_enabled(app, "M")
        assert "Weitere Stadt" in row(app, "2.2")[MILESTONE]
        await pilot.press("M", "enter")  # the dialog has today filled in
        assert row(app, "2.2")[MILESTONE] == ""
        assert "[x] Weitere Stadtteile mit öffentlichem WLAN (erreicht" in details_text(app)
        assert "erreicht" in status_line(app)
        # Now none is open: M is greyed out and does nothing.
        assert not key_enabled(app, "M")
        after = history_size(sample_path)
        await pilot.press("M")
        assert history_size(sample_path) == after
    milestones = {m.title: m for m in read_measure(sample_path, "2.2").milestones}
    reached = milestones["Weitere Stadtteile mit öffentlichem WLAN"]
    assert reached.done and reached.done_on is not None


async def test_shift_m_asks_when_the_milestone_was_reached_with_today_filled_in(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "2.2") as (app, pilot):
        before = history_size(sample_path)
        await pilot.press("M", "escape")  # cancelled: nothing recorded
        assert history_size(sample_path) == before
        await pilot.press("M")
        assert (
            app.screen.query_one("#on", Input).value == LooseDate.from_date(local_today()).german()
        )
        app.screen.query_one("#on", Input).value = "03/2021"
        await pilot.press("enter")
        assert status_line(app) == (
            "Gespeichert: 2.2: Meilenstein „Weitere Stadtteile mit öffentlichem WLAN“ erreicht"
            " (am 03/2021) – u: rückgängig"
        )
        assert "Weitere Stadtteile mit öffentlichem WLAN (erreicht 03/2021)" in details_text(app)
    milestones = {m.title: m for m in read_measure(sample_path, "2.2").milestones}
    assert milestones["Weitere Stadtteile mit öffentlichem WLAN"].done_on == "2021-03"


# --- d / D: delays -----------------------------------------------------------------------


async def test_d_logs_a_corona_delay_and_the_measure_becomes_delayed(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "3.2") as (app, pilot):
        assert not key_enabled(app, "D")  # no open delay to resolve
        await pilot.press("d")
        dialog = app.screen
        assert isinstance(dialog, DelayDialog)
        assert input_value(app, "cause") == "Corona"
        assert "„Im Zeitplan“ zu „Verzögert“" in screen_text(app)
        await fill(pilot, "since", "2099")
        await fill(pilot, "until", "2021")
        await pilot.press("enter")
        assert app.screen is dialog
        assert error_text(app, "until") == "„bis“ liegt vor „seit“ (2099)"
        await fill(pilot, "since", "")
        await fill(pilot, "until", "")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        cells = row(app, "3.2")
        assert cells[STATUS] == "Verzögert"
        assert cells[DELAY] == "offen"
        assert "Corona, seit" in details_text(app) and ", offen" in details_text(app)
        assert key_enabled(app, "D")
    detail = read_measure(sample_path, "3.2")
    assert detail.measure.status == Status.DELAYED
    assert [(d.cause, d.is_open) for d in detail.delays] == [("corona", True)]


async def test_shift_d_resolves_an_open_delay_and_is_offered_only_where_one_is_open(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        assert not key_enabled(app, "D")
        await pilot.press("D")
        assert isinstance(app.screen, MainScreen)

        await select(pilot, "1.3")
        assert key_enabled(app, "D")
        assert row(app, "1.3")[DELAY] == "offen"
        await pilot.press("D")
        dialog = app.screen
        assert isinstance(dialog, ResolveDialog)
        assert "Corona" in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        cells = row(app, "1.3")
        assert cells[STATUS] == "Im Zeitplan"
        assert cells[DELAY] == ""
        assert ", behoben " in details_text(app)
        assert not key_enabled(app, "D")
    detail = read_measure(sample_path, "1.3")
    assert detail.measure.status == Status.ON_SCHEDULE
    assert all(not delay.is_open for delay in detail.delays)


# --- n / e: measures ---------------------------------------------------------------------


async def test_n_creates_a_measure_numbered_after_the_last_of_its_field(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "n")
        dialog = app.screen
        assert isinstance(dialog, MeasureDialog)
        assert dialog.query_one("#field", Select).value == 3  # the chosen field
        await pilot.press("enter")
        assert app.screen is dialog
        assert error_text(app, "title") == "Titel fehlt"

        await fill(pilot, "title", "KI-Assistenz im Bürgerbüro")
        await fill(pilot, "unit", "FB 12")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert current_number(app) == "3.16"
        cells = row(app, "3.16")
        assert cells[STATUS] == "In Planung"
        assert cells[TITLE].startswith("KI-Assistenz")
        assert "3.16  KI-Assistenz im Bürgerbüro" in details_text(app)
        assert field_labels(app)[3].endswith("(16)")
        assert field_labels(app)[0] == "Alle (50)"
    measure = read_measure(sample_path, "3.16").measure
    assert (measure.title, measure.unit, measure.origin, measure.status) == (
        "KI-Assistenz im Bürgerbüro",
        "FB 12",
        "added",
        Status.PLANNING,
    )


async def test_e_edits_title_unit_and_note(catalogue: CatalogueApi, sample_path: Path) -> None:
    async with on_measure(catalogue, "1.11") as (app, pilot):
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, MeasureDialog)
        assert input_value(app, "title") == "LoRaWAN (eigenes Funknetz)"
        assert input_value(app, "unit") == "FB 12"
        await fill(pilot, "title", "")
        await pilot.press("enter")
        assert error_text(app, "title") == "Titel fehlt"
        await fill(pilot, "title", "LoRaWAN-Funknetz")
        await fill(pilot, "unit", "FB 12 / SHM²")
        await fill(pilot, "note", "Pilot im Hafen")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert row(app, "1.11")[TITLE] == "LoRaWAN-Funknetz"
        text = details_text(app)
        assert "1.11  LoRaWAN-Funknetz" in text
        assert "Verantwortlich: FB 12 / SHM²" in text
        assert "Notiz: Pilot im Hafen" in text
    measure = read_measure(sample_path, "1.11").measure
    assert (measure.title, measure.unit, measure.note) == (
        "LoRaWAN-Funknetz",
        "FB 12 / SHM²",
        "Pilot im Hafen",
    )


async def test_number_sign_gives_the_measure_a_free_number_and_refuses_a_taken_one(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.11") as (app, pilot):
        await pilot.press("number_sign")
        assert isinstance(app.screen, RenumberDialog)
        assert input_value(app, "number") == "1.11"
        await fill(pilot, "number", "eins")
        await pilot.press("enter")
        assert "keine Maßnahmennummer" in error_text(app, "number")
        await fill(pilot, "number", "1.1")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert any("1.1 hat schon „Bürgerportal“" in text for text in notifications(app))
        await pilot.press("number_sign")
        await fill(pilot, "number", "1.40")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert current_number(app) == "1.40"  # the cursor follows it to its new place
        assert row(app, "1.40")[TITLE] == "LoRaWAN (eigenes Funknetz)"
        assert "1.11 hat jetzt die Nummer 1.40" in status_line(app)
    assert read_measure(sample_path, "1.40").measure.title == "LoRaWAN (eigenes Funknetz)"


# --- u / ctrl+z: undo --------------------------------------------------------------------


async def test_undo_names_the_change_escape_keeps_it_enter_undoes_it(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s", "e")
        assert status_word(app, "1.2") == "Etabliert"

        await pilot.press("u")
        assert isinstance(app.screen, ConfirmDialog)
        question = screen_text(app)
        assert "Maßnahme 1.2" in question and "Etabliert" in question
        assert "testerin" in question
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert read_measure(sample_path, "1.2").measure.status == Status.ESTABLISHED

        await pilot.press("ctrl+z")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert status_word(app, "1.2") == "Im Zeitplan"
        assert "rückgängig gemacht" in status_line(app)
        assert "Status: Im Zeitplan" in details_text(app)
    detail = read_measure(sample_path, "1.2")
    assert detail.measure.status == Status.ON_SCHEDULE
    assert (detail.history[0].kind, detail.history[0].author) == ("change_undone", "testerin")


async def test_undo_works_after_restarting_the_app(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.6") as (app, pilot):
        await pilot.press("m")
        await fill(pilot, "title", "Pilotbetrieb")
        await pilot.press("enter")
        assert "Pilotbetrieb" in row(app, "1.6")[MILESTONE]
        await pilot.press("q")
    catalogue.close()

    database = open_database(DatabaseTarget(sample_path))
    try:
        again = make_app(Catalogue(database, author="testerin"))
        async with again.run_test(size=SIZE) as pilot:
            await pilot.press("u")
            assert isinstance(again.screen, ConfirmDialog)
            assert "Pilotbetrieb" in screen_text(again)
            assert "Maßnahme 1.6" in screen_text(again)
            await pilot.press("enter")
            assert row(again, "1.6")[MILESTONE] == ""
            assert current_number(again) == "1.6"
            # The undo itself is in the history, newest first.
            history = details_text(again).split("Verlauf (neueste zuerst)")[1]
            assert "testerin: Rückgängig gemacht: " in history.splitlines()[1]
    finally:
        database.close()
    detail = read_measure(sample_path, "1.6")
    assert detail.milestones == ()
    assert detail.history[0].kind == "change_undone"


async def test_undo_with_nothing_to_undo_says_so(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(sample_path)
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        assert isinstance(app.screen, MainScreen)
        assert any("keine eigene Änderung" in n for n in notifications(app))
    assert history_size(sample_path) == before


async def test_undo_of_a_change_someone_else_built_on_is_refused(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("s", "e")
        with other_catalogue(sample_path) as other:
            other.edit_measure("1.2", note="von der Kollegin ergänzt")
        await pilot.press("u", "enter")
        assert isinstance(app.screen, MainScreen)
        assert any("kollegin" in n for n in notifications(app))
        assert status_word(app, "1.2") == "Etabliert"
        assert "Notiz: von der Kollegin ergänzt" in details_text(app)
    measure = read_measure(sample_path, "1.2").measure
    assert (measure.status, measure.note) == (Status.ESTABLISHED, "von der Kollegin ergänzt")


async def test_a_refused_undo_says_why_and_offers_the_change_before(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    original = read_measure(sample_path, "1.2").measure.note
    catalogue.edit_measure("1.2", note="meine erste Änderung")
    catalogue.edit_measure("1.3", note="meine zweite Änderung")
    with other_catalogue(sample_path) as other:
        other.edit_measure("1.3", note="von der Kollegin ergänzt")
    async with on_measure(catalogue, "1.2") as (app, pilot):
        await pilot.press("u")
        assert "Maßnahme 1.3" in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmDialog)  # refused: the one before is offered
        question = screen_text(app)
        assert "kollegin hat die Maßnahme danach geändert" in question
        assert "Stattdessen die Änderung davor?" in question and "Maßnahme 1.2" in question
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert "1.2: rückgängig gemacht" in status_line(app)
    assert read_measure(sample_path, "1.2").measure.note == original
    assert read_measure(sample_path, "1.3").measure.note == "von der Kollegin ergänzt"


async def test_undo_of_a_new_measure_withdraws_it_and_then_offers_the_change_before(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    original = read_measure(sample_path, "1.2").measure.note
    catalogue.edit_measure("1.2", note="vorher geändert")
    catalogue.create_measure(1, "Neue Maßnahme")
    async with on_measure(catalogue, "1.17") as (app, pilot):
        await pilot.press("u")
        assert "Maßnahme 1.17: Maßnahme angelegt" in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert "1.17" not in row_numbers(app)
        await pilot.press("u")
        assert "Maßnahme 1.2" in screen_text(app) and "Notiz" in screen_text(app)
        await pilot.press("enter")
    assert read_measure(sample_path, "1.2").measure.note == original
    assert "1.17" not in [m.number for m in catalogue.list_measures(field_code=1)]


# --- r / ctrl+r: another process -----------------------------------------------------------


async def test_refresh_shows_changes_made_by_another_process(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        with other_catalogue(sample_path) as other:
            other.change_status("1.2", Status.ESTABLISHED)
        assert status_word(app, "1.2") == "Im Zeitplan"  # not yet read
        await pilot.press("r")
        assert status_word(app, "1.2") == "Etabliert"
        assert "Status: Etabliert" in details_text(app)
        assert "kollegin" in details_text(app)  # in the history
        assert "Neu geladen." in notifications(app)

        with other_catalogue(sample_path) as other:
            other.add_milestone("1.2", "Neue Datensätze")
        await pilot.press("ctrl+r")
        assert row(app, "1.2")[MILESTONE] == "Neue Datensätze"
        assert current_number(app) == "1.2"
    assert read_measure(sample_path, "1.2").measure.status == Status.ESTABLISHED


async def test_a_status_change_on_a_measure_changed_meanwhile_is_refused(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        # Asked while the screen shows "Im Zeitplan" (it reads others' changes only once the
        # question is answered); meanwhile the colleague moves 1.2.
        await pilot.press("s")
        with other_catalogue(sample_path) as other:
            other.change_status("1.2", Status.DELAYED)
        await pilot.press("e")
        assert isinstance(app.screen, MainScreen)
        refusal = [n for n in notifications(app) if "inzwischen" in n]
        assert refusal and "kollegin" in refusal[0]
        assert not [n for n in notifications(app) if n.startswith("1.2:")]
        # The screen now shows the other change.
        assert status_word(app, "1.2") == "Verzögert"
    detail = read_measure(sample_path, "1.2")
    assert detail.measure.status == Status.DELAYED
    assert detail.history[0].author == "kollegin"
