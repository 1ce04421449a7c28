"""Pilot tests of a coordinator's day (issue 15): finding by status and delay cause, the
German palette and key names, who signs the changes, choices that show without colour,
and the small surprises (a wrong letter after `s`, the confirm dialog's keys, the cursor
in the new-measure dialog).

What is painted is read through the widgets' own line rendering (`render_lines`), with
NO_COLOR set where a marker must survive it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.command import CommandInput, CommandList, CommandPalette
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Header, OptionList, RadioButton, Static

from koordinator import cli
from koordinator.core.catalogue import CatalogueApi
from koordinator.core.settings import load_settings, update_settings
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.dialogs import (
    ConfirmDialog,
    MeasureDialog,
    NameDialog,
    ResolveDialog,
    StatusDialog,
)
from koordinator.tui.screens.help import HelpScreen
from koordinator.tui.screens.main import MainScreen
from koordinator.tui.widgets import FieldList, FilterInput, StatusLine
from tui_helpers import (
    current_number,
    error_text,
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


# --- 9. who is writing ----------------------------------------------------------------------


async def test_first_start_asks_for_the_name_keeps_it_and_signs_with_it(
    catalogue: CatalogueApi, sample_path: Path, tmp_path: Path
) -> None:
    settings_file = tmp_path / "own-settings.toml"
    catalogue.author = "root"  # the login, as `koordinator` opens it when nobody said
    app = make_app(catalogue, settings_path=settings_file, ask_name=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, NameDialog))
        assert isinstance(app.screen, NameDialog)
        assert app.focused is app.screen.query_one("#name")
        await pilot.press("enter")  # an empty name is no name
        assert isinstance(app.screen, NameDialog)
        assert error_text(app, "name") == "Name fehlt"
        await type_text(pilot, "Erika Muster")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert app.sub_title.startswith("als Erika Muster – ")
        assert load_settings(settings_file)[0].author == "Erika Muster"
        await select(pilot, "1.2")
        await pilot.press("s", "e")
        await wait_until(pilot, lambda: status_line(app).startswith("Gespeichert"))
    events = read_measure(sample_path, "1.2").history
    assert events[0].author == "Erika Muster"


async def test_esc_in_the_name_dialog_ends_the_app_and_writes_nothing(
    catalogue: CatalogueApi, sample_path: Path, tmp_path: Path
) -> None:
    settings_file = tmp_path / "own-settings.toml"
    before = read_measure(sample_path, "1.2").history
    app = make_app(catalogue, settings_path=settings_file, ask_name=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, NameDialog))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.is_running)
        assert not app.is_running
    assert not settings_file.exists()
    assert read_measure(sample_path, "1.2").history == before


async def test_a_known_name_is_not_asked_for_and_shows_in_the_title_bar(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.sub_title.startswith("als testerin – ")
        assert app.sub_title.endswith("catalogue.db")
        header = "".join(painted(app.screen.query_one(Header).query_one("HeaderTitle")))
        assert "koordinator — als testerin – " in header


async def test_saving_the_theme_keeps_the_name_and_entries_it_does_not_know(
    catalogue: CatalogueApi, tmp_path: Path
) -> None:
    settings_file = tmp_path / "own-settings.toml"
    settings_file.write_text(
        'author = "Erika Muster"\nexport_folder = "/srv/berichte"\n', encoding="utf-8"
    )
    app = make_app(catalogue, settings_path=settings_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")  # high contrast: the theme is saved
        assert app.theme == "koordinator-kontrast"
    text = settings_file.read_text(encoding="utf-8")
    assert 'theme = "koordinator-kontrast"' in text
    assert 'author = "Erika Muster"' in text
    assert 'export_folder = "/srv/berichte"' in text


@pytest.mark.parametrize(
    ("argv", "environ", "configured", "named"),
    [
        (["--as", "Cem"], {"KOORDINATOR_USER": "Ute"}, "Erika", "Cem"),
        ([], {"KOORDINATOR_USER": "Ute"}, "Erika", "Ute"),
        ([], {}, "Erika", "Erika"),
        ([], {}, None, None),
    ],
)
def test_who_signs_as_option_then_environment_then_settings(
    argv: list[str],
    environ: dict[str, str],
    configured: str | None,
    named: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KOORDINATOR_USER")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    if configured:
        update_settings(author=configured)  # the default file (KOORDINATOR_CONFIG_DIR)
    assert cli._named_author(cli.build_parser().parse_args(argv)) == named


def test_a_real_first_start_in_a_terminal_asks_once_and_signs_with_the_name(
    sample_path: Path, tmp_path: Path
) -> None:
    """`koordinator` in a pty, with no --as, no KOORDINATOR_USER and no settings: it asks,
    keeps the name, signs a change with it, and the next start does not ask again."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from measure import Terminal  # the benchmarks' pty and screen (Linux)

    config = tmp_path / "first-start-config"
    env = {name: value for name, value in os.environ.items() if name != "KOORDINATOR_USER"}
    env.update(KOORDINATOR_CONFIG_DIR=str(config), TERM="xterm-256color", NO_COLOR="1")
    argv = [sys.executable, "-m", "koordinator", "--db", str(sample_path)]

    terminal = Terminal(argv, env, tmp_path)
    try:
        assert terminal.wait_for(lambda text: "Wer arbeitet hier?" in text, 60) is not None
        terminal.send(b"\r")  # empty: refused
        assert terminal.wait_for(lambda text: "Name fehlt" in text, 20) is not None
        terminal.send(b"Erika Muster\r")
        assert terminal.wait_for(lambda text: "als Erika Muster" in text, 20) is not None
        terminal.send(b"js")  # 1.2, "Im Zeitplan"
        asked = terminal.wait_for(lambda text: "Status 1.2 „Im Zeitplan“" in text, 20)
        assert asked is not None, terminal.screen.text()
        terminal.send(b"e")
        saved = terminal.wait_for(lambda text: "Gespeichert: 1.2" in text, 20)
        assert saved is not None, terminal.screen.text()
        assert terminal.quit()
    finally:
        terminal.kill()
    assert load_settings(config / "settings.toml")[0].author == "Erika Muster"
    assert read_measure(sample_path, "1.2").history[0].author == "Erika Muster"
    with closing(sqlite3.connect(sample_path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    again = Terminal(argv, env, tmp_path)
    try:
        assert again.wait_for(lambda text: "als Erika Muster" in text, 60) is not None
        assert "Wer arbeitet hier?" not in again.screen.text()
        assert again.quit()
    finally:
        again.kill()


def test_a_settings_fifo_is_a_warning_at_start_and_before_a_save_not_a_hang(
    tmp_path: Path,
) -> None:
    settings_file = tmp_path / "settings.toml"
    os.mkfifo(settings_file)
    # In a child process, so that a hang would end in the (generous) bound, not block the run.
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from koordinator.core.settings import load_settings, update_settings\n"
        "path = Path(sys.argv[1])\n"
        "print(load_settings(path)[1])\n"
        "print(update_settings(path, author='Erika'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(settings_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded, saved = done.stdout.splitlines()
    assert loaded == (
        f"{settings_file}: Einstellungen nicht lesbar (keine gewöhnliche Datei) – Standardwerte gelten"
    )
    assert saved.endswith("– Einstellungen nicht gespeichert")


async def test_the_palettes_screenshot_goes_to_the_export_folder(
    catalogue: CatalogueApi, tmp_path: Path
) -> None:
    """ "Bildschirmfoto speichern" writes an SVG of the screen into the folder the settings
    name for exports, not somewhere else."""
    settings_path, folder = tmp_path / "settings.toml", tmp_path / "ablage"
    folder.mkdir()
    assert update_settings(settings_path, export_folder=str(folder)) is None
    app = make_app(catalogue, settings_path=settings_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_save_screenshot()
        await pilot.pause()
    (written,) = folder.glob("koordinator-*.svg")
    assert "Bürgerportal" in written.read_text(encoding="utf-8")
