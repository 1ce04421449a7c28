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
from pathlib import Path

import pytest

import koordinator.core

# The core modules that exist today; a new one is picked up by the discovery below.
KNOWN_CORE_MODULES = {
    "koordinator.core.catalogue",
    "koordinator.core.dates",
    "koordinator.core.db",
    "koordinator.core.errors",
    "koordinator.core.history",
    "koordinator.core.models",
    "koordinator.core.paths",
    "koordinator.core.sample",
    "koordinator.core.views",
    "koordinator.core.workflow",
}


def _core_modules() -> list[str]:
    found = {
        f"koordinator.core.{module.name}"
        for module in pkgutil.iter_modules(koordinator.core.__path__)
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
    "koordinator.core.sample",
    "koordinator.core.report",
    "koordinator.core.snapshot",
    "koordinator.tui.commands",
    "koordinator.tui.screens.help",
    "koordinator.tui.screens.dashboard",
    "koordinator.tui.dialogs.form",
    "koordinator.tui.dialogs.status_dialog",
    "tomli_w",
    "tomllib",
)


def run_app_in_fresh_interpreter(
    sample_path: Path, pilot_steps: str, *, before: str = "", after: str = ""
) -> None:
    """Start the app on `sample_path` the CLI's way (open the database, build the
    catalogue) in a fresh interpreter, run `pilot_steps` (Pilot code with `app`, `pilot` and
    `sys` in scope) inside app.run_test(size=(120, 40)), then `after`; `before` runs first
    of all.  Fails with the interpreter's stderr."""
    code = (
        before + "import asyncio, sys\n"
        "from koordinator import cli\n"
        "from koordinator.tui.app import make_app\n"
        f"args = cli.build_parser().parse_args(['--db', {str(sample_path)!r}])\n"
        "app = make_app(cli._catalogue(args, cli._open(args)))\n"
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


def test_starting_the_ui_does_not_import_what_the_first_screen_does_not_need(
    sample_path: Path,
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
    )


def test_the_cycle_collector_is_off_during_start_up_and_on_after_the_first_paint(
    sample_path: Path,
) -> None:
    """`koordinator` starts without the cycle collector (cli.run); the UI turns it on once
    its first screen is painted, with what start-up built frozen out of its way.  (In a
    fresh interpreter: the tests' own apps leave the collector alone.)"""
    run_app_in_fresh_interpreter(
        sample_path,
        """
        await pilot.pause()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
        """,
        before="import gc\ngc.disable()  # as cli.run does\n",
    )


def test_what_is_imported_late_still_works_when_first_used(sample_path: Path) -> None:
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
    )
