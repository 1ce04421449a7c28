"""Seeing what others did (issue 15, item 11): their changes appear by themselves, and the
history screen lists every change, filterable, with the conflicts of merges reachable."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from koordinator.core import snapshot
from koordinator.core.catalogue import CatalogueApi
from koordinator.core.dates import local_today
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.screens.history import HistoryScreen
from koordinator.tui.screens.main import MainScreen
from test_processes import processes
from tui_helpers import (
    current_number,
    fill,
    other_catalogue,
    select,
    status_word,
    wait_until,
)

SIZE = (120, 40)


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"


# --- others' changes appear by themselves ----------------------------------------------------


async def test_a_change_by_another_process_appears_without_a_key(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "1.5")
        assert status_word(app, "1.3") == "Verzögert"
        with other_catalogue(sample_path) as other:
            other.change_status("1.3", Status.ON_SCHEDULE)
        await wait_until(pilot, lambda: status_word(app, "1.3") != "Verzögert")
        assert status_word(app, "1.3") == "Im Zeitplan"
        assert current_number(app) == "1.5"  # the cursor stayed where it was


@pytest.mark.skipif(sys.platform != "linux", reason="a pty as controlling terminal")
def test_a_cli_status_change_shows_in_a_running_ui(tmp_path: Path) -> None:
    """`koordinator` in a pty, `koordinator status` beside it: the screen shows the new
    status without a key pressed; the file stays sound."""
    lab = processes.Lab(tmp_path / "lab")
    try:
        ui = lab.start_ui("anna")
        ui.painted()
        number = "1.3"  # "Verzögert" in the sample
        row_before = next(line for line in ui.screen().splitlines() if f" {number}  " in line)
        assert "Verzögert" in row_before
        assert lab.change_status(number, "on_schedule", "Lieferung da"), lab.problems
        ui._wait(
            "the CLI's change on screen",
            lambda text: any(
                f" {number}  " in line and "Im Zeitplan" in line for line in text.splitlines()
            ),
            10,
        )
        ui.quit()
    finally:
        lab.close()
    connection = sqlite3.connect(lab.db)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # The confirmed change is there, and the UI beside it did not write over it.
        assert connection.execute(
            "SELECT status FROM measure WHERE number = ? AND withdrawn = 0", (number,)
        ).fetchall() == [("on_schedule",)]
    finally:
        connection.close()


# --- the history screen --------------------------------------------------------------------


def rows(screen: HistoryScreen) -> list[list[str]]:
    table = screen.query_one("#events", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def count_line(screen: HistoryScreen) -> str:
    return str(screen.query_one("#history-count", Static).render())


def merge_a_conflict(catalogue: CatalogueApi, sample_path: Path, tmp_path: Path) -> str:
    """Both sides delete the same milestone of 2.2; importing the other's makes a conflict."""
    pilot_title = catalogue.measure("2.2").milestones[0].title
    theirs = tmp_path / "ben.db"
    theirs.write_bytes(sample_path.read_bytes())
    with other_catalogue(theirs, author="ben") as ben:
        ben.delete_milestone("2.2", pilot_title)
        snapshot.export_to_file(ben.database, tmp_path / "ben.toml", author="ben")
    catalogue.delete_milestone("2.2", pilot_title)
    snapshot.import_snapshots(catalogue.database, [tmp_path / "ben.toml"], author="testerin")
    return pilot_title


async def test_h_lists_all_changes_newest_first_and_filters_them(
    catalogue: CatalogueApi, sample_path: Path, tmp_path: Path
) -> None:
    catalogue.change_status("1.2", Status.ESTABLISHED, note="fertig")
    with other_catalogue(sample_path, author="kollegin") as other:
        other.change_status("1.5", Status.DELAYED, delay=None)
    merge_a_conflict(catalogue, sample_path, tmp_path)
    everything = catalogue.history()
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        screen = app.screen
        await wait_until(pilot, lambda: screen.events is not None)
        assert len(rows(screen)) == len(everything)
        assert count_line(screen).startswith(f"{len(everything)} von {len(everything)} Änderungen")
        assert "davon 1 Konflikt" in count_line(screen)
        # Newest first: the merge's events, then 1.5, then 1.2.
        numbers = [row[1] for row in rows(screen)]
        assert numbers.index("1.5") < numbers.index("1.2")

        await fill(pilot, "author", "KOLL")  # part of a name, any case
        assert [(row[1], row[2]) for row in rows(screen)] == [("1.5", "kollegin")]
        await fill(pilot, "author", "")
        await fill(pilot, "measure", "1.2")
        assert {row[1] for row in rows(screen)} == {"1.2"}
        await fill(pilot, "measure", "")

        # The period: this year holds today's changes; 2019 the sample's first entries.
        await fill(pilot, "period", str(local_today().year))
        assert len(rows(screen)) >= 3
        await fill(pilot, "period", "2019")
        assert rows(screen)
        assert all(row[0][6:10] == "2019" for row in rows(screen))
        assert len(rows(screen)) < len(everything)
        await fill(pilot, "period", "Juni")
        assert "ist kein Zeitraum" in str(screen.query_one("#period-error", Static).render())
        assert len(rows(screen)) == len(everything)  # the wrong period is left out
        await fill(pilot, "period", "")

        # Only the conflicts: the merge's one, with why it did not apply.
        await pilot.press("ctrl+t")
        (conflict,) = rows(screen)
        assert conflict[1] == "2.2"
        assert "[Konflikt, nicht angewandt:" in conflict[3]
        # Enter shows its measure on the main screen.
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        await wait_until(pilot, lambda: current_number(app) == "2.2")
        assert current_number(app) == "2.2"
