"""Slow work off the UI thread, and actions that await their dialogs (issue 15, item 4).

Export, report, import and the dashboard's figures run in thread workers: while one runs,
the keys keep working, a line says what runs, and a second export is refused instead of
started twice.  The jobs are held with an Event, so the tests wait for no clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from koordinator.core import report, snapshot
from koordinator.core.catalogue import CatalogueApi, open_catalogue
from koordinator.core.settings import Settings, load_settings, save_settings
from koordinator.tui.app import make_app
from koordinator.tui.dialogs import ExportDialog, ImportDialog
from koordinator.tui.screens.dashboard import DashboardScreen
from koordinator.tui.screens.findings import FindingsScreen
from koordinator.tui.screens.main import MainScreen
from koordinator.tui.widgets.progress_line import ProgressLine
from snapshot_helpers import benchmark_generator
from tui_helpers import (
    current_number,
    fill,
    main_screen,
    other_catalogue,
    screen_text,
    select,
    status_line,
    wait_until,
)

SIZE = (120, 40)
LARGE = 2000  # measures: an export of them takes a while, as at a coordinator's desk


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"


@pytest.fixture(scope="module")
def large_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "gross.db"
    benchmark_generator().generate(path, LARGE, seed=3)
    return path


@pytest.fixture
def large(large_built: Path, tmp_path: Path) -> Iterator[CatalogueApi]:
    path = tmp_path / "gross.db"
    path.write_bytes(large_built.read_bytes())
    catalogue = open_catalogue(str(path), read_only=False, author="testerin", lazy=True)
    yield catalogue
    catalogue.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The export folder the settings name."""
    folder = tmp_path / "ablage"
    folder.mkdir()
    assert save_settings(Settings(export_folder=str(folder))) is None
    return folder


class Held:
    """Wraps a module function so that each call waits until `release` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        real: Callable[..., Any] = getattr(module, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.started.set()
            assert self.release.wait(60), "the test never released the job"
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, held)


def progress_text(app: Any) -> str:
    lines = main_screen(app).query(ProgressLine)
    return " ".join(line.text for line in lines)


async def test_the_cursor_moves_while_an_export_runs_and_a_second_is_refused(
    large: CatalogueApi, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = Held(monkeypatch, snapshot, "export_to_file")
    written = folder / f"koordinator-{date.today().isoformat()}.toml"
    app = make_app(large)
    async with app.run_test(size=SIZE) as pilot:
        first = current_number(app)
        await pilot.press("x")
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("enter")
        await wait_until(pilot, export.started.is_set)
        assert export.started.is_set()
        # The export runs; the screen answers keys.
        await pilot.press("j")
        assert isinstance(app.screen, MainScreen)
        assert current_number(app) != first
        assert not written.exists()
        await wait_until(pilot, lambda: "Export läuft" in progress_text(app))
        assert "Export läuft …" in progress_text(app)
        # A second export is refused with a line, not started.
        await pilot.press("x")
        assert isinstance(app.screen, MainScreen)
        assert "Export läuft" in status_line(app)
        export.release.set()
        await wait_until(pilot, lambda: not isinstance(app.screen, MainScreen))
        assert isinstance(app.screen, FindingsScreen)  # the generated catalogue has findings
        assert progress_text(app) == ""
    assert export.calls == 1
    assert written.exists()


@pytest.mark.parametrize("key", ["g", "report"])
async def test_the_dashboard_and_the_report_are_computed_while_keys_work(
    catalogue: CatalogueApi, folder: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    name = "report_figures" if key == "g" else "write_report"
    job = Held(monkeypatch, report, name)
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        if key == "g":
            await pilot.press("g")
        else:
            main_screen(app).action_write_report()
            await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
            await pilot.press("enter")
        await wait_until(pilot, job.started.is_set)
        await pilot.press("j")
        assert current_number(app) == "1.2"
        assert isinstance(app.screen, MainScreen)
        job.release.set()
        if key == "g":
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            assert isinstance(app.screen, DashboardScreen)
        else:
            await wait_until(pilot, lambda: "Bericht geschrieben" in status_line(app))
            assert (folder / f"koordinator-bericht-{date.today().isoformat()}.md").exists()


async def test_i_imports_a_snapshot_and_shows_what_it_did(
    catalogue: CatalogueApi, sample_path: Path, folder: Path, tmp_path: Path
) -> None:
    """A colleague's snapshot, with a status change made there, merged through `i`."""
    theirs = tmp_path / "theirs.db"
    theirs.write_bytes(sample_path.read_bytes())
    with other_catalogue(theirs, author="kollegin") as other:
        other.change_status("1.3", "on_schedule", note="Lieferung da")
        snapshot.export_to_file(other.database, folder / "kollegin.toml", author="kollegin")
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        assert isinstance(app.screen, ImportDialog)
        await fill(pilot, "filename", "kollegin.toml")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FindingsScreen))
        assert isinstance(app.screen, FindingsScreen)
        shown = str(app.screen.query_one("#findings-lines").render())
        assert "Lieferung da" in shown
        assert "Importiert: 1 neuer Eintrag bei 1 Maßnahme." in str(
            app.screen.query_one(".dialog-subtitle").render()
        )
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
    assert catalogue.measure("1.3").measure.status.value == "on_schedule"


async def test_an_import_of_a_missing_file_keeps_the_dialog_open(
    catalogue: CatalogueApi, folder: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        await fill(pilot, "filename", "fehlt.toml")
        await pilot.press("enter")
        assert isinstance(app.screen, ImportDialog)
        assert "gibt es nicht" in str(app.screen.query_one("#filename-error").render())


# --- the export folder and an existing file (issue 15, item 12) --------------------------


async def test_the_export_dialog_proposes_the_settings_folder(
    catalogue: CatalogueApi, folder: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        assert isinstance(app.screen, ExportDialog)
        assert app.screen.directory == folder.resolve()
        assert f"Ordner: {folder.resolve()}" in str(
            app.screen.query_one(".dialog-subtitle").render()
        )


async def test_without_a_setting_the_export_goes_to_the_documents_folder(
    catalogue: CatalogueApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = tmp_path / "Dokumente"
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(documents))
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        assert isinstance(app.screen, ExportDialog)
        assert app.screen.directory == documents.resolve()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FindingsScreen))
    assert (documents / f"koordinator-{date.today().isoformat()}.toml").exists()


async def test_an_existing_file_is_replaced_only_after_a_yes(
    catalogue: CatalogueApi, folder: Path
) -> None:
    from koordinator.tui.dialogs import ConfirmDialog

    target = folder / f"koordinator-{date.today().isoformat()}.toml"
    target.write_text("# mein Stand\n", encoding="utf-8")
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x", "enter")
        assert isinstance(app.screen, ConfirmDialog)
        question = " ".join(str(text.render()) for text in app.screen.query(Static))
        assert f"{target} gibt es schon. Ersetzen?" in question
        await pilot.press("n")  # no: back to the dialog, the file as it was
        assert isinstance(app.screen, ExportDialog)
        assert target.read_text(encoding="utf-8") == "# mein Stand\n"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert target.read_text(encoding="utf-8") == "# mein Stand\n"
        await pilot.press("x", "enter", "enter")  # yes: replaced
        await wait_until(pilot, lambda: isinstance(app.screen, FindingsScreen))
    assert "mein Stand" not in target.read_text(encoding="utf-8")


async def test_the_export_folder_survives_a_theme_change(
    catalogue: CatalogueApi, folder: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")  # high contrast: the settings file is written
    settings, warning = load_settings()
    assert warning is None
    assert settings.theme == "koordinator-kontrast"
    assert settings.export_folder == str(folder)


# --- a quick save says how to take it back (issue 15, item 13) -----------------------------


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_a_quick_save_says_u_takes_it_back(
    catalogue: CatalogueApi, size: tuple[int, int]
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=size) as pilot:
        await select(pilot, "1.2")
        await pilot.press("s", "e")  # Im Zeitplan -> Etabliert
        assert "Gespeichert: 1.2: Im Zeitplan → Etabliert – u: rückgängig" in screen_text(app)
        await pilot.press("u")  # and u offers exactly that change
        question = " ".join(str(text.render()) for text in app.screen.query(Static))
        assert "Maßnahme 1.2: Status: Im Zeitplan → Etabliert" in question
        await pilot.press("enter")
        assert status_line(app).startswith("Gespeichert: 1.2: rückgängig gemacht")
