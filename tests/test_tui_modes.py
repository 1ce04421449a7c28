"""Pilot tests of help (?), the command palette (ctrl+p), the high-contrast theme (c) and its
settings file, read-only mode, the 80x24 terminal, and the issue's done-criterion: a
newcomer's session at 80x24 checked afterwards with `koordinator show`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot

from koordinator.cli import main as cli_main
from koordinator.core.catalogue import CatalogueApi
from koordinator.core.settings import load_settings
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.dialogs import ConfirmDialog, DelayDialog, MilestoneDialog
from koordinator.tui.screens.help import HelpScreen
from koordinator.tui.screens.main import MainScreen
from koordinator.tui.status_keys import STATUS_KEYS
from koordinator.tui.themes import HIGH_CONTRAST
from tui_helpers import (
    MILESTONE,
    STATUS,
    bindings_of,
    current_number,
    details_title,
    fill,
    main_screen,
    notifications,
    other_catalogue,
    plain,
    row,
    row_numbers,
    screen_text,
    select,
    shown_notifications,
    status_word,
    table,
    type_text,
)

SIZE = (120, 40)


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"  # the form `koordinator` starts its UI with (conftest.py)


# How the help writes the keys of MainScreen.BINDINGS.
KEY_SPELLING = {
    "slash": "/",
    "question_mark": "?",
    "number_sign": "#",
    "escape": "Esc",
    "ctrl+z": "Strg+Z",
    "ctrl+r": "Strg+R",
}


def history_size(path: Path) -> int:
    with other_catalogue(path, author="leserin") as catalogue:
        return len(catalogue.history())


def help_text(app: App[None]) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    return "\n".join(plain(static.content) for static in screen.query("Static"))


async def palette_hits(pilot: Pilot[None], query: str, *, typed: bool = True) -> list[str]:
    """Open the palette, enter `query`, and wait (bounded) until its hits are listed."""
    await pilot.press("ctrl+p")
    assert isinstance(pilot.app.screen, CommandPalette)
    if typed:
        await type_text(pilot, query)
    else:
        pilot.app.screen.query_one(CommandInput).value = query
    hits: list[str] = []
    for _ in range(400):  # the search runs in a worker (bounded: 20 s)
        await pilot.pause(0.05)
        commands = pilot.app.screen.query_one(CommandList)
        hits = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
        if hits and any(query in hit for hit in hits):
            break
    return hits


# --- ? help --------------------------------------------------------------------------------


async def test_help_lists_every_key_of_the_main_screen_and_the_status_letters(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(sample_path)
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        text = help_text(app)
        lines = text.splitlines()
        for binding in bindings_of(MainScreen):
            keys = " / ".join(KEY_SPELLING.get(k, k) for k in binding.key.split(","))
            wanted = re.compile(rf"^\s*{re.escape(keys)}\s+{re.escape(binding.description)}")
            assert any(wanted.match(line) for line in lines), (keys, binding.description)
        for status, letter in STATUS_KEYS.items():
            assert any(re.match(rf"^\s*{letter}\s+{status.label}\s*$", line) for line in lines)
        assert list(STATUS_KEYS.values()) == ["p", "z", "v", "e", "l", "x"]
        for key in ("q", "?", "c", "Strg+P", "Tab"):
            assert any(line.strip().startswith(key) for line in lines), key
        # Esc closes it again.
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
    assert history_size(sample_path) == before


# --- ctrl+p command palette ----------------------------------------------------------------


async def test_palette_goes_to_a_measure_by_number(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")  # field 1 only: 3.6 is not listed
        assert "3.6" not in row_numbers(app)
        hits = await palette_hits(pilot, "3.6")
        assert hits[0].startswith("Gehe zu Maßnahme 3.6 – GIS-Krisenmanagement")
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert current_number(app) == "3.6"
        assert details_title(app) == "3.6  GIS-Krisenmanagement (GISKM)"
        assert table(app).row_count == 49  # the field filter was lifted to show it


async def test_palette_goes_to_a_measure_by_title(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        hits = await palette_hits(pilot, "Krisenmanagement", typed=False)
        assert hits[0].startswith("Gehe zu Maßnahme 3.6 – GIS-Krisenmanagement")
        await pilot.press("enter")
        assert current_number(app) == "3.6"
        assert details_title(app).startswith("3.6  ")


async def test_palette_lists_every_action_of_the_main_screen(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(main_screen(app))}
        for binding in bindings_of(MainScreen):
            name = binding.tooltip or binding.description
            assert name in titles, name
        assert {"Hilfe", "Hoher Kontrast ein/aus", "Sortieren"} <= titles
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


# --- c high contrast, settings file ------------------------------------------------------


async def test_c_toggles_high_contrast_and_the_next_app_remembers_it(
    catalogue: CatalogueApi, sample_path: Path, tmp_path: Path
) -> None:
    settings_file = tmp_path / "config" / "settings.toml"  # KOORDINATOR_CONFIG_DIR
    before = history_size(sample_path)
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        default = app.theme
        assert default != HIGH_CONTRAST.name
        await pilot.press("c")
        assert app.theme == HIGH_CONTRAST.name
        assert status_word(app, "1.1") == "Etabliert"  # the status stays a word
    assert load_settings(settings_file)[1] is None  # no warning: the file is valid TOML
    assert f'theme = "{HIGH_CONTRAST.name}"' in settings_file.read_text(encoding="utf-8")

    again = make_app(catalogue)
    async with again.run_test(size=SIZE) as pilot:
        assert again.theme == HIGH_CONTRAST.name
        assert not notifications(again)
        await pilot.press("c")
        assert again.theme == default
    assert load_settings(settings_file)[0].theme == default
    assert history_size(sample_path) == before


@pytest.mark.parametrize(
    ("content", "warning"),
    [("theme = [kaputt", "Einstellungen nicht lesbar"), ("theme = 3", "„theme“ muss Text sein")],
)
async def test_a_damaged_settings_file_gives_a_warning_not_a_crash(
    catalogue: CatalogueApi, tmp_path: Path, content: str, warning: str
) -> None:
    settings_file = tmp_path / "config" / "settings.toml"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text(content, encoding="utf-8")
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        assert any(warning in message for message in notifications(app))
        severities = {n.severity for n in shown_notifications(app) if warning in n.message}
        assert severities == {"warning"}
        assert table(app).row_count == 49
        assert app.theme != HIGH_CONTRAST.name
        await pilot.press("c")  # choosing again repairs the file
        assert app.theme == HIGH_CONTRAST.name
    settings, warning = load_settings(settings_file)
    assert warning is None
    assert settings.theme == HIGH_CONTRAST.name


# --- read-only -----------------------------------------------------------------------------


async def test_read_only_mode_disables_every_editing_key_and_says_why(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    # 1.2 gets something for every key: a change to undo, an open delay, an open milestone.
    catalogue.change_status("1.2", Status.DELAYED)
    catalogue.add_milestone("1.2", "Neue Datensätze")
    before = history_size(sample_path)
    app = make_app(catalogue, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        assert "nur lesen" in app.sub_title
        await select(pilot, "1.2")
        for key in ["s", "m", "M", "d", "D", "n", "e", "u", "ctrl+z", "i"]:
            app.clear_notifications()
            await pilot.press(key)
            assert isinstance(app.screen, MainScreen), key
            assert any("Nur-Lese-Modus" in n for n in notifications(app)), key
        # The footer shows the editing keys greyed out; reading still works.
        assert not app.screen.active_bindings["s"].enabled
        await pilot.press("ctrl+home", "down")
        assert current_number(app) == "1.2"
        assert status_word(app, "1.2") == "Verzögert"
        # The help says so too.
        await pilot.press("question_mark")
        assert "Status (im Nur-Lese-Modus gesperrt)" in help_text(app)
    assert history_size(sample_path) == before
    assert catalogue.measure("1.2").measure.status == Status.DELAYED


async def test_read_only_palette_offers_no_editing_actions(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue, read_only=True)
    async with app.run_test(size=SIZE):
        titles = {command.title for command in app.get_system_commands(main_screen(app))}
        assert "Status" not in titles and "Rückgängig" not in titles
        assert "Filter" in titles


# --- 80x24 ---------------------------------------------------------------------------------


async def test_at_80x24_the_footer_shows_how_to_get_help(catalogue: CatalogueApi) -> None:
    # A newcomer finds everything "from the help screen alone" – if they can see its key.
    app = make_app(catalogue)
    async with app.run_test(size=(80, 24)):
        footer = screen_text(app).splitlines()[-1]
        assert "?" in footer, f"footer at 80 columns: {footer!r}"


async def test_done_criterion_at_80x24_then_koordinator_show(
    catalogue: CatalogueApi, sample_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mark 1.11 on schedule, log a Corona delay on 3.2, add the milestone "Pilotbetrieb"
    due 06/2021 to 1.6, undo the last of these, quit; `koordinator show` shows exactly that."""
    app = make_app(catalogue)
    async with app.run_test(size=(80, 24)) as pilot:
        # 1. Find 1.11 with the filter, `s` `z`.
        await pilot.press("slash")
        await type_text(pilot, "1.11")
        await pilot.press("enter")
        assert row_numbers(app) == ["1.11"]
        await pilot.press("s")
        assert "[z] Zeitplan  [e] Etabliert" in screen_text(app)  # short labels at 80 columns
        await pilot.press("z")
        assert status_word(app, "1.11") == "Im Zeitplan"
        # The row shows the status word at 80 columns.
        lines = screen_text(app).splitlines()
        assert any("1.11" in line and "Im Zeitplan" in line for line in lines)

        # 2. 3.2: `d`, the cause is Corona already, Enter.
        await pilot.press("escape", "slash")
        await type_text(pilot, "3.2")
        await pilot.press("enter")
        assert current_number(app) == "3.2"
        await pilot.press("d")
        assert isinstance(app.screen, DelayDialog)
        assert "Corona" in screen_text(app)
        await pilot.press("enter")
        assert status_word(app, "3.2") == "Verzögert"

        # 3. 1.6: `m`, title, Tab, due date, Enter.
        await pilot.press("escape", "slash")
        await type_text(pilot, "1.6")
        await pilot.press("enter")
        assert current_number(app) == "1.6"
        await pilot.press("m")
        assert isinstance(app.screen, MilestoneDialog)
        await fill(pilot, "title", "Pilotbetrieb")
        await pilot.press("tab")
        await type_text(pilot, "06/2021")
        shown = screen_text(app)
        assert "Pilotbetrieb" in shown and "06/2021" in shown  # the inputs fit on screen
        await pilot.press("enter")
        assert "Pilotbetrieb" in row(app, "1.6")[MILESTONE]

        # 4. Undo the last change: the question names it; Enter.
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmDialog)
        assert "Pilotbetrieb" in screen_text(app) and "1.6" in screen_text(app)
        await pilot.press("enter")
        assert row(app, "1.6")[MILESTONE] == ""
        assert row(app, "1.6")[STATUS] == "Verzögert"

        # 5. Quit.
        await pilot.press("escape", "q")
    assert app.return_code == 0

    def show(number: str) -> dict[str, Any]:
        capsys.readouterr()
        code = cli_main(["--db", str(sample_path), "show", number, "--format", "json"])
        assert code == 0
        shown: dict[str, Any] = json.loads(capsys.readouterr().out)
        return shown

    lora = show("1.11")
    assert lora["status"] == "on_schedule"
    assert lora["history"][0]["to_status"] == "on_schedule"
    assert lora["history"][0]["author"] == "testerin"

    akte = show("3.2")
    assert akte["status"] == "delayed"
    assert [(d["cause"], d["open"]) for d in akte["delays"]] == [("corona", True)]
    assert akte["open_delays"] == 1

    chatbot = show("1.6")
    assert [m["title"] for m in chatbot["milestones"] if m["title"] == "Pilotbetrieb"] == []
    assert chatbot["next_milestone"] is None
    assert chatbot["status"] == "delayed"  # as before: the sample has it delayed
    kinds = [event["kind"] for event in chatbot["history"][:2]]
    assert kinds == ["change_undone", "milestone_added"]
    assert chatbot["history"][0]["author"] == "testerin"
