"""The headless core never imports Textual: the CLI and snapshots must work without a UI.

Each module is imported in a fresh interpreter, so that nothing imported by pytest or by
another test can hide (or cause) a Textual import.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

import koordinator.core
from koordinator.core.errors import DatabaseError

# The core modules that exist today; a new one is picked up by the discovery below.
KNOWN_CORE_MODULES = {
    "koordinator.core.catalogue",
    "koordinator.core.dates",
    "koordinator.core.errors",
    "koordinator.core.history",
    "koordinator.core.lazy_catalogue",
    "koordinator.core.numbers",
    "koordinator.core.paths",
    "koordinator.core.store.sample",
    "koordinator.core.service",
    "koordinator.core.store.fast_reads",
    "koordinator.core.store.models",
    "koordinator.core.store.sqlite_file",
    "koordinator.core.store.sqlite_store",
    "koordinator.core.views",
    "koordinator.core.workflow",
}


def _core_modules() -> list[str]:
    # The subpackages' modules too (koordinator.core.store).
    found = {
        module.name
        for module in pkgutil.walk_packages(koordinator.core.__path__, "koordinator.core.")
    }
    return sorted(found | {"koordinator", "koordinator.core"})


def _headless_candidates() -> list[str]:
    optional = ["koordinator.cli"]
    return _core_modules() + [name for name in optional if importlib.util.find_spec(name)]


def test_the_known_core_modules_are_all_discovered() -> None:
    assert set(_core_modules()) >= KNOWN_CORE_MODULES


@pytest.mark.parametrize("module", _headless_candidates())
def test_importing_does_not_load_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'textual')\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_check_would_notice_textual() -> None:
    """The same check fails for a module that does load Textual (guards the test itself)."""
    if importlib.util.find_spec("textual") is None:  # pragma: no cover
        pytest.skip("textual is not installed")
    code = "import sys, textual.app\nassert 'textual' not in sys.modules\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode != 0


# --- the terminal UI: what the first paint does not need is imported when first used ------

# Modules the first screen does not need: imported only when their dialog, screen or
# palette opens (or a setting is saved), so that koordinator paints sooner.
NOT_AT_START = (
    "koordinator.core.store.sample",
    "koordinator.core.report",
    "koordinator.core.snapshot",
    "koordinator.tui.commands",
    "koordinator.tui.screens.help",
    "koordinator.tui.screens.dashboard",
    "koordinator.tui.dialogs.form",
    "koordinator.tui.dialogs.status_dialog",
    "rtoml",
    "tomli_w",
    "tomllib",
)


# What the UI's first screen is painted with: the standard library's sqlite3, not these.
NOT_BEFORE_THE_FIRST_PAINT = (
    "sqlalchemy",
    "koordinator.core.store.models",
    "koordinator.core.service",
)


def run_app_in_fresh_interpreter(
    sample_path: Path,
    pilot_steps: str,
    *,
    before: str = "",
    after: str = "",
    options: Sequence[str] = (),
    lazy: bool = False,
) -> None:
    """Start the app on `sample_path` the CLI's way in a fresh interpreter, run
    `pilot_steps` (Pilot code with `app`, `pilot` and `sys` in scope) inside
    app.run_test(size=(120, 40)), then `after`; `before` runs first of all.  `lazy`: the
    way `koordinator` starts its UI (first paint from sqlite3, SQLAlchemy loaded after it);
    otherwise the database is opened and the Catalogue built first, as in the commands.
    Fails with the interpreter's stderr."""
    argv = ["--db", str(sample_path), *options]
    start = (
        "from koordinator.core.lazy_catalogue import LazyCatalogue\n"
        "catalogue = cli._open_catalogue(args, lazy=True)\n"
        "assert isinstance(catalogue, LazyCatalogue)\n"
        if lazy
        else "catalogue = cli._open_catalogue(args, lazy=False)\n"
    )
    code = (
        before + "import asyncio, sys\n"
        "from koordinator import cli\n"
        "from koordinator.tui.app import make_app\n"
        f"args = cli.build_parser().parse_args({argv!r})\n"
        + start
        + "app = make_app(catalogue, read_only=getattr(catalogue, 'read_only', False))\n"
        "async def use():\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        + textwrap.indent(textwrap.dedent(pilot_steps), " " * 8)
        + "asyncio.run(use())\n"
        + textwrap.dedent(after)
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("lazy", [True, False])
def test_starting_the_ui_does_not_import_what_the_first_screen_does_not_need(
    sample_path: Path, lazy: bool
) -> None:
    """The app is run up to its first screen in a fresh interpreter (through the CLI's own
    path: open the database, build the catalogue) and the unneeded modules are not there."""
    run_app_in_fresh_interpreter(
        sample_path,
        """
        await pilot.pause()
        assert 'Bürgerportal' in str(app.screen.query_one('MeasureTable').get_row_at(0))
        """,
        after=f"""
        loaded = [name for name in {NOT_AT_START!r} if name in sys.modules]
        assert not loaded, loaded
        """,
        lazy=lazy,
    )


@pytest.mark.parametrize("lazy", [True, False])
def test_the_cycle_collector_is_off_during_start_up_and_on_after_the_first_paint(
    sample_path: Path, lazy: bool
) -> None:
    """`koordinator` starts without the cycle collector (cli.run); the UI turns it on once
    its first screen is painted, with what start-up built frozen out of its way.  (In a
    fresh interpreter: the tests' own apps leave the collector alone.)"""
    run_app_in_fresh_interpreter(
        sample_path,
        """
        for _ in range(200):  # with `lazy`: once SQLAlchemy is loaded after the paint
            if gc.isenabled():
                break
            await pilot.pause(0.05)
        assert gc.isenabled()
        assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
        """,
        before="import gc\ngc.disable()  # as cli.run does\n",
        lazy=lazy,
    )


@pytest.mark.parametrize("lazy", [True, False])
def test_what_is_imported_late_still_works_when_first_used(sample_path: Path, lazy: bool) -> None:
    """In a fresh interpreter (nothing imported by other tests): the status dialog, the
    help, the palette's "go to measure" and a theme change (saves the settings) work on
    their first use."""
    run_app_in_fresh_interpreter(
        sample_path,
        """
        await pilot.press('s', 'enter')
        await pilot.pause()
        assert type(app.screen).__name__ == 'StatusDialog', app.screen
        await pilot.press('escape', 'question_mark')
        await pilot.pause()
        assert type(app.screen).__name__ == 'HelpScreen', app.screen
        await pilot.press('escape')
        from koordinator.tui.app import measure_commands
        assert measure_commands() in app.COMMANDS or measure_commands in app.COMMANDS
        await pilot.press('ctrl+p')
        await pilot.pause()
        await pilot.press(*'3.6', 'enter')
        for _ in range(400):  # the palette searches in a worker
            if getattr(getattr(app.screen, 'table', None), 'current_number', '') == '3.6':
                break
            await pilot.pause(0.05)
        assert app.screen.table.current_number == '3.6', app.screen
        await pilot.press('c')
        await pilot.pause()
        """,
        after="""
        from koordinator.core.paths import settings_path
        assert 'koordinator-kontrast' in settings_path().read_text(encoding='utf-8')
        """,
        lazy=lazy,
    )


# --- the first paint before SQLAlchemy ------------------------------------------------------

# Records, when the main screen's first paint is done, what it shows and what is imported;
# then lets the screen go on (it loads SQLAlchemy and the write side).
SPY_ON_THE_FIRST_PAINT = f"""
from koordinator.tui.screens.main import MainScreen
at_first_paint = {{}}
_after_first_paint = MainScreen._after_first_paint
def spy(screen):
    at_first_paint['imported'] = [
        name for name in {NOT_BEFORE_THE_FIRST_PAINT!r} if name in sys.modules
    ]
    at_first_paint['first row'] = str(screen.table.get_row_at(0))
    at_first_paint['details'] = screen.detail.measure.title if screen.detail else None
    at_first_paint['fields'] = screen.field_names
    at_first_paint['title'] = screen.app.sub_title
    _after_first_paint(screen)
MainScreen._after_first_paint = spy
"""


@pytest.mark.parametrize("options", [(), ("--read-only",)])
def test_the_first_screen_is_painted_with_rows_before_sqlalchemy_is_imported(
    sample_path: Path, options: tuple[str, ...]
) -> None:
    """The way `koordinator` starts its UI: the first screen (fields with counts, the
    measures, the highlighted measure's details, the database's name in the title) is
    painted from plain sqlite3 reads; SQLAlchemy is loaded after that paint."""
    run_app_in_fresh_interpreter(
        sample_path,
        """
        for _ in range(200):
            if app.screen.catalogue.loaded:
                break
            await pilot.pause(0.05)
        assert app.screen.catalogue.loaded
        """,
        before="import sys\n" + SPY_ON_THE_FIRST_PAINT,
        options=options,
        lazy=True,
        after=f"""
        assert at_first_paint['imported'] == [], at_first_paint
        assert 'Bürgerportal' in at_first_paint['first row'], at_first_paint
        assert at_first_paint['details'] and 'Bürgerportal' in at_first_paint['details']
        assert len(at_first_paint['fields']) == 4, at_first_paint
        assert {str(sample_path)!r} in at_first_paint['title'], at_first_paint
        assert at_first_paint['title'].endswith('nur lesen') == {bool(options)}
        assert 'sqlalchemy' in sys.modules  # loaded after the paint
        """,
    )


@pytest.mark.parametrize("background_load", [True, False])
def test_editing_works_right_after_the_start(sample_path: Path, background_load: bool) -> None:
    """A status change pressed at once is saved: it waits for the write side if that is
    still loading, and loads it itself if the background load has not even begun."""
    before = "import sys\n"
    if not background_load:
        before += (
            "from koordinator.tui.screens.main import MainScreen\n"
            "MainScreen._load_write_side = lambda screen: None\n"
        )
    run_app_in_fresh_interpreter(
        sample_path,
        """
        await pilot.press('j', 's', 'e')
        await pilot.pause()
        detail = app.screen.catalogue.measure('1.2')
        assert detail.measure.status.value == 'established', detail.measure
        assert app.screen.detail.measure.status.value == 'established'
        """,
        before=before,
        lazy=True,
    )


def test_the_ui_starts_the_usual_way_where_the_first_paint_cannot_come_first(
    tmp_path: Path,
) -> None:
    """A default database that does not exist yet is created (with SQLAlchemy) the usual
    way; so is a URL; a file that is no database is refused by the one file check."""
    from koordinator.core.lazy_catalogue import open_lazy

    def lazy(flag: str | None) -> object:
        return open_lazy(flag, read_only=False, author="testerin")

    assert lazy(None) is None  # the default database: not there yet
    text_file = tmp_path / "notes.db"
    text_file.write_text("no database", encoding="utf-8")
    with pytest.raises(DatabaseError, match="keine SQLite-Datenbank"):
        lazy(str(text_file))
    assert lazy(f"sqlite:///{tmp_path / 'x.db'}") is None
