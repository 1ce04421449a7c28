"""Pilot tests of a coordinator's day (issue 15): finding by status and delay cause, the
German palette and key names, who signs the changes, choices that show without colour,
and the small surprises (a wrong letter after `s`, the confirm dialog's keys, the cursor
in the new-measure dialog).

What is painted is read through the widgets' own line rendering (`render_lines`), with
NO_COLOR set where a marker must survive it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.command import CommandInput, CommandList, CommandPalette
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import OptionList, RadioButton, Static

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.dialogs import ConfirmDialog, MeasureDialog, ResolveDialog, StatusDialog
from koordinator.tui.screens.help import HelpScreen
from koordinator.tui.screens.main import MainScreen
from koordinator.tui.widgets import FieldList, FilterInput, StatusLine
from tui_helpers import (
    current_number,
    main_screen,
    read_measure,
    row_numbers,
    select,
    status_line,
    type_text,
    wait_until,
)

SIZE = (120, 40)


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"  # the form `koordinator` starts its UI with


def painted(widget: Widget) -> list[str]:
    """The lines `widget` paints (border included), as text."""
    return [strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]


def painted_line_with(widget: Widget, text: str) -> str:
    return next(line for line in painted(widget) if text in line)


# --- 10. not by colour alone ---------------------------------------------------------------


async def test_the_chosen_field_is_marked_in_the_painted_list_without_colour(
    catalogue: CatalogueApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        fields = main_screen(app).query_one(FieldList)
        assert "› Alle (49)" in painted_line_with(fields, "Alle (49)")
        assert "›" not in painted_line_with(fields, "E-Government")
        await pilot.press("2")
        assert "›" not in painted_line_with(fields, "Alle (49)")
        assert "› 2 Intelligente" in painted_line_with(fields, "2 Intelligente")
        # The cursor moving over the list does not move the mark: it marks the filter.
        await pilot.press("shift+tab", "up")
        assert fields.highlighted == 1
        assert "›" not in painted_line_with(fields, "E-Government")
        assert "› 2 Intelligente" in painted_line_with(fields, "2 Intelligente")


async def test_the_status_dialog_marks_the_highlighted_move_as_it_moves(
    catalogue: CatalogueApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.2")  # "Im Zeitplan": e, v, l, x
        await pilot.press("s", "enter")
        assert isinstance(app.screen, StatusDialog)
        moves = app.screen.query_one("#moves", OptionList)
        assert "› [e] Etabliert" in painted_line_with(moves, "Etabliert")
        assert "›" not in painted_line_with(moves, "Verzögert")
        await pilot.press("down")
        assert "›" not in painted_line_with(moves, "Etabliert")
        assert "› [v] Verzögert" in painted_line_with(moves, "Verzögert")


async def test_the_resolve_dialog_paints_the_chosen_way_on_as_filled_and_the_other_empty(
    catalogue: CatalogueApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.3")  # delayed, one open delay
        await pilot.press("D")
        assert isinstance(app.screen, ResolveDialog)
        on_schedule = app.screen.query_one("#on_schedule", RadioButton)
        established = app.screen.query_one("#established", RadioButton)
        assert "●" in painted(on_schedule)[0] and "○" not in painted(on_schedule)[0]
        assert "○" in painted(established)[0] and "●" not in painted(established)[0]
        established.value = True  # as a click or space on it would
        await pilot.pause()
        assert "○" in painted(on_schedule)[0]
        assert "●" in painted(established)[0]


# --- 13. small surprises ------------------------------------------------------------------


async def test_a_letter_after_s_that_is_no_allowed_move_says_so_and_writes_nothing(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.2")  # "Im Zeitplan": e, v, l, x
        await pilot.press("s", "z")
        line = main_screen(app).query_one(StatusLine)
        assert not line.asking
        expected = (
            "z ist hier kein möglicher Status: e Etabliert, v Verzögert, "
            "l In die Linie übergeben, x Verworfen"
        )
        assert status_line(app) == expected
        assert expected in painted(line)[0]
        # `j` out of habit: said too, and the cursor stays.
        await pilot.press("s", "j")
        assert status_line(app).startswith("j ist hier kein möglicher Status: e Etabliert")
        assert current_number(app) == "1.2"
        # Esc just ends the question.
        await pilot.press("s", "escape")
        assert status_line(app) == ""
    assert read_measure(sample_path, "1.2").measure.status == Status.ON_SCHEDULE


async def test_a_refused_letter_fits_an_80_column_line_with_the_short_labels(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "1.2")
        await pilot.press("s", "q")  # not quit: the answer to the question
        assert app.return_code is None
        line = main_screen(app).query_one(StatusLine)
        assert painted(line)[0].strip() == ("! q ist hier kein möglicher Status: e, v, l, x")


async def test_the_confirm_dialog_takes_y_or_enter_as_yes_but_not_j(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.2")
        await pilot.press("s", "e")
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("j")  # "down" everywhere else: no answer here
        assert isinstance(app.screen, ConfirmDialog)
        assert "Enter/y: Ja · Esc/n: Nein" in painted(app.screen.query_one(".dialog-hint"))[-1]
        assert read_measure(sample_path, "1.2").measure.status == Status.ESTABLISHED
        await pilot.press("y")
        assert isinstance(app.screen, MainScreen)
    assert read_measure(sample_path, "1.2").measure.status == Status.ON_SCHEDULE


async def test_the_new_measure_dialog_starts_in_its_first_field_the_title(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "n")
        dialog = app.screen
        assert isinstance(dialog, MeasureDialog)
        first = next(iter(dialog.query("Input, Select").results()))
        assert first.id == "title"
        assert app.focused is first
        # So a title and Enter are enough: the field (3, the filter) and today are filled in.
        await type_text(pilot, "KI-Assistenz")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
    assert read_measure(sample_path, "3.16").measure.title == "KI-Assistenz"


# --- 8. German throughout -----------------------------------------------------------------

TEXTUAL_ENGLISH = ("Theme", "Quit", "Screenshot", "Maximize", "Minimize", "Keys", "Search for")


async def palette_listing(pilot: Pilot[None]) -> list[str]:
    """Open the palette and wait (bounded) until it lists its commands (title and help)."""
    await pilot.press("ctrl+p")
    assert isinstance(pilot.app.screen, CommandPalette)
    commands = pilot.app.screen.query_one(CommandList)
    await wait_until(pilot, lambda: commands.option_count > 10)
    return [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]


async def test_the_palette_speaks_german_and_names_keys_as_on_a_german_keyboard(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        listing = await palette_listing(pilot)
        box = app.screen.query_one(CommandInput)
        assert "Befehl suchen …" in "".join(painted(box))
        text = "\n".join(listing)
        for english in TEXTUAL_ENGLISH:
            assert english not in text, english
        for german in ("Farbschema wechseln", "Beenden", "Bildschirmfoto speichern", "Hilfe"):
            assert german in text, german
        assert "Taste ?" in text and "Taste /" in text and "Taste #" in text
        assert "question_mark" not in text and "slash" not in text
        assert "number_sign" not in text
        # The theme chooser it opens asks in German too.
        await pilot.press("escape")
        app.action_change_theme()
        await pilot.pause()
        assert "Farbschema suchen …" in "".join(painted(app.screen.query_one(CommandInput)))


async def test_the_palette_offers_maximize_in_german_for_the_table(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Bereich maximieren" in titles
        app.screen.action_maximize()
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Bereich wiederherstellen" in titles


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("ctrl+p", "Strg+P"),
        ("ctrl+home", "Strg+Pos1"),
        ("ctrl+end", "Strg+Ende"),
        ("shift+tab", "Umschalt+Tab"),
        ("pageup", "Bild↑"),
        ("pagedown", "Bild↓"),
        ("question_mark", "?"),
        ("slash", "/"),
        ("number_sign", "#"),
        ("escape", "Esc"),
        ("enter", "Enter"),
        ("delete", "Entf"),
        ("up", "↑"),
        ("down", "↓"),
        ("D", "D"),
    ],
)
def test_keys_are_displayed_as_on_a_german_keyboard(
    catalogue: CatalogueApi, key: str, shown: str
) -> None:
    # What the footer and Textual's own widgets ask the app for.
    assert make_app(catalogue).get_key_display(Binding(key, "noop")) == shown


async def test_the_help_names_the_palette_key_and_no_key_by_its_textual_name(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(line for static in app.screen.query(Static) for line in painted(static))
        assert re.search(r"Strg\+P\s+Befehlspalette", text)
        for name in ("question_mark", "slash", "number_sign", "ctrl+", "pageup", "escape"):
            assert name not in text, name


# --- 7. finding by status and delay cause ---------------------------------------------------

DELAYED = ["1.3", "1.4", "1.6", "1.10", "3.3", "3.5", "3.8", "3.9", "3.10"]


def test_the_search_finds_status_labels_and_open_delay_causes_as_shown(
    catalogue: CatalogueApi,
) -> None:
    def found(text: str) -> list[str]:
        return [measure.number for measure in catalogue.list_measures(text=text)]

    assert found("verzögert") == DELAYED
    assert found("Planung") == [m.number for m in catalogue.list_measures(status=Status.PLANNING)]
    # Every measure with an open delay of cause "corona" (stored by code, shown "Corona").
    corona = found("Corona")
    assert set(DELAYED) <= set(corona)
    # A resolved delay's cause no longer finds its measure (unless its texts say it).
    catalogue.resolve_delays("3.10", on=None, return_to=Status.ON_SCHEDULE, note="")
    assert "3.10" not in found("Corona")
    # Number, title and unit as before.
    assert found("1.11") == ["1.11"]
    assert "3.6" in found("krisenmanagement")


async def test_slash_finds_measures_by_status_and_by_delay_cause(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "verzögert")
        await wait_until(pilot, lambda: row_numbers(app) == DELAYED)
        assert row_numbers(app) == DELAYED
        await pilot.press("escape")
        await pilot.press("slash")
        await type_text(pilot, "Corona")
        await wait_until(pilot, lambda: "1.3" in row_numbers(app))
        assert set(DELAYED) <= set(row_numbers(app))


async def test_f_and_a_status_letter_filter_by_status_with_the_field_and_the_text(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        assert "[v] Verzögert" in status_line(app)  # the letters of `s`
        await pilot.press("v")
        assert row_numbers(app) == DELAYED
        box = main_screen(app).query_one(FilterInput)
        assert box.display
        assert "nur Status „Verzögert“" in painted(box)[0]  # the filter shows
        # With the field: field 3's delayed measures only.
        await pilot.press("3")
        assert row_numbers(app) == ["3.3", "3.5", "3.8", "3.9", "3.10"]
        # With the text as well.
        await pilot.press("slash")
        await type_text(pilot, "3.1")
        assert row_numbers(app) == ["3.10"]
        await pilot.press("enter")
        # f again lifts the status filter; the field and the text stay.
        await pilot.press("f")
        assert row_numbers(app) == ["3.1", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
        assert "nur Status" not in painted(box)[0]
        # Esc clears text and status together.
        await pilot.press("f", "e", "escape")
        assert not box.display
        assert len(row_numbers(app)) == 15  # field 3, unfiltered
    assert read_measure(sample_path, "3.10").measure.status == Status.DELAYED  # nothing written
