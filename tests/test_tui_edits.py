"""Pilot tests of the edit keys for milestones (E: change or delete) and open delays (V:
change), against a temporary database checked afterwards through a fresh connection
(issue 14, item 7)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import OptionList

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.workflow import DelayInput
from koordinator.tui.dialogs import ConfirmDialog, DelayDialog, MilestoneDialog
from koordinator.tui.dialogs.row_chooser import RowChooser
from koordinator.tui.screens.main import MainScreen
from test_tui_editing import catalogue_form, history_size, key_enabled, on_measure
from tui_helpers import (
    DELAY,
    details_text,
    error_text,
    fill,
    input_value,
    other_catalogue,
    read_measure,
    row,
    select,
    status_line,
)

__all__ = ["catalogue_form"]  # the fixture (both forms), used by name

PILOT = "Weitere Stadtteile mit öffentlichem WLAN"


def chooser_rows(app: App[None]) -> list[str]:
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def downs_to(app: App[None], start: str) -> list[str]:
    """The keys that move the chooser's cursor to the row starting with `start`."""
    index = [text.startswith(start) for text in chooser_rows(app)].index(True)
    return ["down"] * index


async def test_shift_e_changes_a_chosen_milestone_with_its_values_filled_in(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "2.2") as (app, pilot):
        assert key_enabled(app, "E")
        await pilot.press("E")
        assert isinstance(app.screen, RowChooser)
        assert [text.split(" (")[0] for text in chooser_rows(app)] == [
            m.title for m in read_measure(sample_path, "2.2").milestones
        ]
        await pilot.press(*downs_to(app, PILOT), "enter")
        dialog = app.screen
        assert isinstance(dialog, MilestoneDialog)
        assert (input_value(app, "title"), input_value(app, "due")) == (PILOT, "2021")
        await fill(pilot, "due", "13/2022")
        await pilot.press("enter")
        assert app.screen is dialog and "„13/2022“ ist kein Datum" in error_text(app, "due")
        await fill(pilot, "due", "06/2099")
        await fill(pilot, "note", "Ausbau verschoben")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert (
            status_line(app) == f"Gespeichert: 2.2: Meilenstein „{PILOT}“ geändert – u: rückgängig"
        )
        assert f"{PILOT} (fällig 06/2099) – Ausbau verschoben" in details_text(app)
    (edited,) = [m for m in read_measure(sample_path, "2.2").milestones if m.title == PILOT]
    assert (edited.due, edited.note) == ("2099-06", "Ausbau verschoben")
    assert read_measure(sample_path, "2.2").history[0].kind == "milestone_edited"


async def test_shift_e_then_delete_removes_the_milestone_after_asking(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "2.2") as (app, pilot):
        before = history_size(sample_path)
        await pilot.press("E")
        await pilot.press(*downs_to(app, PILOT), "delete")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")  # no: nothing deleted
        assert history_size(sample_path) == before
        await pilot.press("E")
        await pilot.press(*downs_to(app, PILOT), "delete", "enter")
        assert isinstance(app.screen, MainScreen)
        assert (
            status_line(app) == f"Gespeichert: 2.2: Meilenstein „{PILOT}“ gelöscht – u: rückgängig"
        )
        listed = f"[ ] {PILOT} (fällig 2021"  # in the milestones, not the history
        assert listed not in details_text(app)
        await pilot.press("u", "enter")  # undo brings it back
        assert listed in details_text(app)
    assert PILOT in [m.title for m in read_measure(sample_path, "2.2").milestones]


async def test_shift_e_is_off_where_a_measure_has_no_milestone(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.3") as (app, pilot):
        assert read_measure(sample_path, "1.3").milestones == ()
        assert not key_enabled(app, "E")
        await pilot.press("E")
        assert isinstance(app.screen, MainScreen)


async def test_shift_v_changes_the_open_delay_with_its_values_filled_in(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    async with on_measure(catalogue, "1.2") as (app, pilot):
        assert not key_enabled(app, "V")  # no open delay
        await select(pilot, "1.3")
        assert key_enabled(app, "V")
        await pilot.press("V")
        dialog = app.screen
        assert isinstance(dialog, DelayDialog)
        assert (input_value(app, "cause"), input_value(app, "since")) == ("Corona", "2020")
        await fill(pilot, "until", "2019")
        await pilot.press("enter")
        assert app.screen is dialog and error_text(app, "until") == "„bis“ liegt vor „seit“ (2020)"
        await fill(pilot, "cause", "Lieferengpass")
        await fill(pilot, "until", "06/2022")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert status_line(app) == "Gespeichert: 1.3: Verzögerung geändert – u: rückgängig"
        assert "Lieferengpass, seit 2020, voraussichtlich bis 06/2022" in details_text(app)
        assert row(app, "1.3")[DELAY] == "offen"
    (delay,) = read_measure(sample_path, "1.3").delays
    assert (delay.cause, delay.since, delay.until) == ("Lieferengpass", "2020", "2022-06")
    assert read_measure(sample_path, "1.3").history[0].summary == (
        "Verzögerung geändert: Ursache, bis"
    )


async def test_shift_v_asks_which_of_several_open_delays(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    with other_catalogue(sample_path) as colleague:
        colleague.log_delay("1.3", DelayInput(cause="Personal"))
    async with on_measure(catalogue, "1.3") as (app, pilot):
        await pilot.press("V")
        assert isinstance(app.screen, RowChooser)
        rows = chooser_rows(app)
        assert len(rows) == 2 and any(text.startswith("Personal") for text in rows)
        await pilot.press(*downs_to(app, "Personal"), "enter")
        assert isinstance(app.screen, DelayDialog)
        assert input_value(app, "cause") == "Personal"
        await fill(pilot, "note", "Stelle offen")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
    notes = {d.cause: d.note for d in read_measure(sample_path, "1.3").delays}
    assert notes["Personal"] == "Stelle offen"
