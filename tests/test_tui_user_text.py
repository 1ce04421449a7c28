"""User text is data, never markup: titles, units, notes, field names, authors and file
names show as typed in every widget of the terminal UI, and none of them can crash it or
act as an action link.

Each test puts text that Textual's markup would read - "[/alt]" (a closing tag that made
the markup parser raise), "[b]fett[/b]" (a style that swallowed the brackets), "[red]x"
and "[@click=app.quit]Klick[/]" (a link that quit the app) - where a user or a snapshot
could, and checks what the screen paints, and that clicking it does not quit.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, Label, Select, Static

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.dates import LooseDate
from koordinator.core.settings import Settings, save_settings
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.dialogs import DelayDialog, MeasureDialog, MilestoneDialog, StatusDialog
from koordinator.tui.screens.dashboard import DashboardScreen
from koordinator.tui.screens.findings import FindingsScreen
from koordinator.tui.screens.main import MainScreen
from tui_helpers import (
    MILESTONE,
    TITLE,
    UNIT,
    details_text,
    error_text,
    field_labels,
    fill,
    notifications,
    other_catalogue,
    read_measure,
    row,
    screen_text,
    select,
    status_line,
    table,
    type_text,
    wait_until,
)

SIZE = (120, 40)


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"  # the form `koordinator` starts its UI with (conftest.py)


LINK = "[@click=app.quit]Klick[/]"
CLOSING = "Migration [/alt]"
BOLD = "[b]fett[/b]"
OPEN = "[red]x"


def set_field_name(path: Path, code: int, name: str) -> None:
    """A field's name as an older version or a snapshot could have left it (no command
    renames a field)."""
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE field_of_action SET name = ? WHERE code = ?", (name, code))
    connection.close()


def toasts(app: App[None]) -> str:
    """What the notifications on screen paint, their lines joined."""
    painted = [str(toast.render()) for toast in app.screen.query("Toast").results(Static)]
    return " ".join(" ".join(painted).split())


def still_running(app: App[None]) -> bool:
    return app.return_code is None and isinstance(app.screen, MainScreen | MilestoneDialog)


async def test_titles_units_and_notes_with_markup_show_as_typed_everywhere(
    catalogue: CatalogueApi,
) -> None:
    catalogue.edit_measure("1.2", title=LINK, unit=BOLD, note=f"{OPEN} und {CLOSING}")
    catalogue.add_milestone("1.2", CLOSING, due=LooseDate(2020, 3))
    app = make_app(catalogue)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await select(pilot, "1.2")
        cells = row(app, "1.2")
        assert (cells[TITLE], cells[UNIT]) == (LINK, BOLD)
        assert cells[MILESTONE] == f"überfällig 03/2020 {CLOSING}"
        painted = table(app).line_text("1.2")  # the line as painted: cut to the column
        assert all(t in painted for t in (LINK, BOLD, "überfällig 03/2020 Migr…")), painted
        text = screen_text(app)
        for typed in (LINK, BOLD, f"Notiz: {OPEN} und {CLOSING}", f"[ ] {CLOSING} (fällig"):
            assert typed in text, typed
        assert f"1.2  {LINK}" in details_text(app)
        assert f"[ ] {CLOSING} (fällig 03/2020, überfällig)" in details_text(app)

        # The status line confirms with the milestone's title as typed.
        await pilot.press("M", "enter")
        assert status_line(app) == (
            f"Gespeichert: 1.2: Meilenstein „{CLOSING}“ erreicht (heute) – u: rückgängig"
        )
        assert f"Meilenstein „{CLOSING}“ erreicht" in screen_text(app)

        # The status dialog names the measure by its title, as typed.
        await pilot.press("s", "enter")
        assert isinstance(app.screen, StatusDialog)
        subtitle = app.screen.query_one(".dialog-subtitle", Label)
        assert str(subtitle.render()) == LINK
        await pilot.click(subtitle, offset=(2, 0))
        await pilot.press("escape")
        assert still_running(app)


async def test_an_export_finding_naming_a_milestone_with_markup_is_shown_as_typed(
    catalogue: CatalogueApi, tmp_path: Path
) -> None:
    # An overdue milestone is an export finding; "[/alt]" in its title crashed the UI.
    catalogue.add_milestone("1.2", CLOSING, due=LooseDate(2020, 3))
    catalogue.add_milestone("1.3", LINK, due=LooseDate(2020, 4))
    folder = tmp_path / "ablage"
    folder.mkdir()
    save_settings(Settings(export_folder=str(folder)))
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FindingsScreen))
        assert isinstance(app.screen, FindingsScreen)
        findings = str(app.screen.query_one("#findings-lines", Static).render())
        assert f"1.2: Meilenstein „{CLOSING}“ überfällig" in findings
        assert f"1.3: Meilenstein „{LINK}“ überfällig" in findings
        # A click on the finding's text is no action link.
        await pilot.click("#findings-lines", offset=(4, 1))
        await pilot.pause()
        assert app.return_code is None
        await pilot.press("escape")
        assert still_running(app)
    assert (folder / f"koordinator-{date.today().isoformat()}.toml").exists()


async def test_an_error_quoting_an_author_with_markup_is_notified_as_typed(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await select(pilot, "1.2")
        await pilot.press("s")  # asked about 1.2 "Im Zeitplan"; meanwhile BOLD moves it
        with other_catalogue(sample_path, author=BOLD) as other:
            other.change_status("1.2", Status.DELAYED)
        await pilot.press("e")  # refused: changed meanwhile, by BOLD
        await pilot.pause()
        refusal = next(n for n in notifications(app) if "inzwischen" in n)
        assert f"von {BOLD} geändert" in refusal
        assert f"von {BOLD} geändert" in toasts(app)
        assert still_running(app)


async def test_an_error_quoting_a_milestone_title_with_markup_is_notified_as_typed(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    catalogue.add_milestone("1.2", CLOSING, due=LooseDate(2020, 3))
    catalogue.add_milestone("1.2", "Abschluss", due=LooseDate(2022, 3))
    app = make_app(catalogue)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await select(pilot, "1.2")
        await pilot.press("M")  # the dialog asks about the open milestone ...
        with other_catalogue(sample_path) as other:
            other.complete_milestone("1.2", CLOSING)  # ... which a colleague marks reached
        await pilot.press("enter")  # refused: "… schon erreicht"
        await pilot.pause()
        refusal = next((n for n in notifications(app) if "schon erreicht" in n), notifications(app))
        assert f"offener Meilenstein „{CLOSING}“ ist schon erreicht" in refusal
        assert f"„{CLOSING}“ ist schon erreicht" in toasts(app)
        assert still_running(app)


async def test_a_dialog_shows_the_title_and_the_refused_input_as_typed(
    catalogue: CatalogueApi,
) -> None:
    catalogue.edit_measure("1.2", title=LINK)
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.2")
        await pilot.press("m")
        dialog = app.screen
        assert isinstance(dialog, MilestoneDialog)
        subtitle = dialog.query_one(".dialog-subtitle", Label)
        assert str(subtitle.render()) == LINK  # the measure's title under the heading
        await fill(pilot, "title", "Pilotbetrieb")
        await fill(pilot, "due", BOLD)
        await pilot.press("enter")  # not a date: the dialog stays and quotes it
        assert app.screen is dialog
        assert (
            error_text(app, "due") == f"„{BOLD}“ ist kein Datum – z. B. 2021, 06/2021, 30.06.2021"
        )
        assert f"„{BOLD}“ ist kein Datum" in screen_text(app)
        # Neither the title nor the error is a link: clicking them quits nothing.
        await pilot.click(subtitle, offset=(2, 0))
        await pilot.click("#due-error", offset=(5, 0))
        await pilot.pause()
        assert app.return_code is None and app.screen is dialog


async def test_a_dialog_refuses_a_bidi_control_beside_the_field_with_the_catalogues_words(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.2")
        await pilot.press("m")
        dialog = app.screen
        await fill(pilot, "title", "Pilot\u202ebetrieb")
        await pilot.press("enter")
        assert app.screen is dialog  # nothing written, the input can be corrected
        assert error_text(app, "title") == (
            "Text mit Steuerzeichen für die Schreibrichtung (U+202E)"
        )
        await pilot.press("escape", "e")
        await fill(pilot, "unit", "FB\u206612")
        await pilot.press("enter")
        assert error_text(app, "unit") == "Text mit Steuerzeichen für die Schreibrichtung (U+2066)"
    detail = read_measure(sample_path, "1.2")
    assert (detail.measure.unit, detail.milestones) == ("FB 12", ())


async def test_the_edit_and_delay_dialogs_hold_the_texts_as_typed(catalogue: CatalogueApi) -> None:
    catalogue.edit_measure("1.2", title=LINK, unit=BOLD, note=OPEN)
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.2")
        await pilot.press("e")
        assert isinstance(app.screen, MeasureDialog)
        values = [
            app.screen.query_one(f"#{name}", Input).value for name in ("title", "unit", "note")
        ]
        assert values == [LINK, BOLD, OPEN]
        await pilot.press("enter")  # saved unchanged
        assert isinstance(app.screen, MainScreen)
        assert row(app, "1.2")[TITLE] == LINK

        await pilot.press("d")
        assert isinstance(app.screen, DelayDialog)
        subtitle = app.screen.query_one(".dialog-subtitle", Label)
        assert str(subtitle.render()) == LINK
        await pilot.click(subtitle, offset=(2, 0))
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.return_code is None


async def test_field_names_with_markup_show_as_typed_in_the_list_the_dialog_and_the_dashboard(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    set_field_name(sample_path, 1, BOLD)
    set_field_name(sample_path, 2, LINK)
    catalogue.add_milestone("1.2", CLOSING, due=LooseDate(2020, 3))
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        labels = field_labels(app)
        assert labels[1] == f"1 {BOLD} (16)"
        assert labels[2].startswith(f"2 {LINK}")
        assert f"1 {BOLD} (16)" in screen_text(app)
        await pilot.click("#fields", offset=(6, 2))  # on the second field's name
        await pilot.pause()
        assert app.return_code is None

        await pilot.press("n")  # the new measure's field of action
        assert isinstance(app.screen, MeasureDialog)
        choices = app.screen.query_one("#field", Select)
        assert f"1 {BOLD}" in screen_text(app)
        await pilot.click(choices)
        await pilot.pause()
        assert f"2 {LINK}" in screen_text(app)
        await pilot.press("escape", "escape")

        await pilot.press("g")  # the figures are computed in a worker
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert isinstance(app.screen, DashboardScreen)
        text = screen_text(app)
        assert f"1 {BOLD} – 16 Maßnahmen" in text
        assert f"2 {LINK} – " in text
        assert f"{CLOSING} (fällig 03/2020)" in text
        assert app.return_code is None


async def test_the_palette_lists_a_title_with_markup_as_typed(catalogue: CatalogueApi) -> None:
    catalogue.edit_measure("1.2", title=f"Klick {LINK}", unit=OPEN)
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "Klick")
        hits: list[str] = []
        for _ in range(400):  # the search runs in a worker (bounded: 20 s)
            await pilot.pause(0.05)
            commands = app.screen.query_one(CommandList)
            hits = [
                str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)
            ]
            if any("1.2" in hit for hit in hits):
                break
        assert f"Gehe zu Maßnahme 1.2 – Klick {LINK}" in hits[0]
        assert f"Im Zeitplan · {OPEN}" in hits[0]
        assert f"Klick {LINK}" in screen_text(app)


async def test_control_and_bidi_characters_from_an_older_database_show_as_escapes(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    # The catalogue refuses them now; a database written before (or by hand) may hold them.
    with sqlite3.connect(sample_path) as connection:
        connection.execute(
            "UPDATE measure SET title = ?, unit = ? WHERE number = '1.2'",
            ("Portal\x1b[2J\u202eneu", "FB\u202e21"),
        )
    connection.close()
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.2")
        assert row(app, "1.2")[TITLE] == "Portal\\x1b[2J\\u202eneu"
        assert row(app, "1.2")[UNIT] == "FB\\u202e21"
        assert "1.2  Portal\\x1b[2J\\u202eneu" in details_text(app)
        text = screen_text(app)
        assert "\x1b" not in text and "\u202e" not in text
