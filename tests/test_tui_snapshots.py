"""What the UI paints, proven by SVG snapshots (pytest-textual-snapshot): the main screen at
120x40 and 80x24, a dialog, the dashboard, high contrast.

The snapshots live in tests/__snapshots__/; a test fails when the painted screen differs from
the accepted one, and `pytest --snapshot-update` accepts a new look after it was checked by eye
(the failing run writes snapshot_report.html with both side by side).  Every run paints the
sample catalogue as users get it, on a fixed day (today's date decides what is overdue) and
under a fixed database name (the title bar shows it).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from koordinator.core import dates
from koordinator.core.catalogue import CatalogueApi, open_catalogue
from koordinator.core.settings import Settings, save_settings
from koordinator.tui.app import KoordinatorApp, make_app
from koordinator.tui.themes import HIGH_CONTRAST

# A day after the sample's report (December 2020) on which some milestones are overdue.
PAINTED_ON = datetime(2021, 3, 15, 9, 30, tzinfo=UTC)

SnapCompare = Callable[..., bool]


class _FixedDatetime(datetime):
    """`datetime` whose now() is PAINTED_ON: dates.local_today and the causal clock ask it."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:
        return PAINTED_ON if tz is None else PAINTED_ON.astimezone(tz)


@pytest.fixture
def painted_catalogue(
    built_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CatalogueApi]:
    """The sample, opened as `koordinator` opens it, as "catalogue.db" on PAINTED_ON."""
    monkeypatch.setattr(dates, "datetime", _FixedDatetime)
    monkeypatch.setenv("TZ", "UTC")  # the times the details show, wherever the tests run
    time.tzset()
    # The accepted snapshots are in colour; a caller's NO_COLOR would paint them grey.
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(built_sample, tmp_path / "catalogue.db")
    catalogue = open_catalogue("catalogue.db", read_only=False, author="testerin", lazy=True)
    yield catalogue
    catalogue.close()
    monkeypatch.undo()
    time.tzset()


def app_for(catalogue: CatalogueApi, tmp_path: Path, **settings: Any) -> KoordinatorApp:
    path = tmp_path / "settings.toml"
    assert save_settings(Settings(**settings), path) is None
    return make_app(catalogue, settings_path=path)


def test_main_screen_120x40(
    snap_compare: SnapCompare, painted_catalogue: CatalogueApi, tmp_path: Path
) -> None:
    """The sample's first measures, the field pane, the details of 1.1, the footer keys."""
    assert snap_compare(app_for(painted_catalogue, tmp_path), terminal_size=(120, 40))


def test_main_screen_80x24(
    snap_compare: SnapCompare, painted_catalogue: CatalogueApi, tmp_path: Path
) -> None:
    """At 80x24 the list shows number, status, title, unit and the next milestone's date."""
    assert snap_compare(app_for(painted_catalogue, tmp_path), terminal_size=(80, 24))


def test_status_dialog(
    snap_compare: SnapCompare, painted_catalogue: CatalogueApi, tmp_path: Path
) -> None:
    """`s` then Enter: the status dialog with the allowed moves, the chosen one marked."""
    assert snap_compare(
        app_for(painted_catalogue, tmp_path), press=["j", "s", "enter"], terminal_size=(100, 30)
    )


def test_dashboard(
    snap_compare: SnapCompare, painted_catalogue: CatalogueApi, tmp_path: Path
) -> None:
    """`g`: the report's figures 9 / 20 / 9 / 8 / 2 / 1."""

    async def open_dashboard(pilot: Pilot[None]) -> None:
        await pilot.press("g")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(
        app_for(painted_catalogue, tmp_path), run_before=open_dashboard, terminal_size=(120, 40)
    )


def test_high_contrast(
    snap_compare: SnapCompare, painted_catalogue: CatalogueApi, tmp_path: Path
) -> None:
    """The high-contrast theme, chosen in the settings, at 120x40."""
    app = app_for(painted_catalogue, tmp_path, theme=HIGH_CONTRAST.name)
    assert snap_compare(app, terminal_size=(120, 40))
