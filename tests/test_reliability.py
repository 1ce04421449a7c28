"""Crash safety and concurrency, reduced versions of the benchmarks in benchmarks/.

* `benchmarks/crash_loop.py` (documented command: `--kills 200`) SIGKILLs the real command
  line at random moments; here ~20 kills within a time limit, same code, same checks.
* `benchmarks/concurrency.py` (documented: `--changes 500`) runs two processes changing
  statuses on one database at once; here 2 x 100 through the core API and 2 x 3 through
  the command line, same checks; and a UI open on the database shows the changes after `r`.

The checks must be able to fail: the last tests damage a database in the ways the checks
look for (a lost change, a state that is not its history's) and expect them to say so.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

import pytest

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from tui_helpers import details_text, notifications, other_catalogue, select, status_word

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    """A benchmark script as a module (under its own name: concurrency imports crash_loop)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


crash_loop = _load("crash_loop")
concurrency = _load("concurrency")


# --- crash safety -----------------------------------------------------------------------------


def test_sigkill_at_random_moments_loses_no_committed_change(tmp_path: Path) -> None:
    lines: list[str] = []
    report = crash_loop.crash_loop(
        20, seed=6, folder=tmp_path / "crash", calibration_runs=2, time_limit=22, log=lines.append
    )
    summary = "\n".join([*lines, *report.lines()])
    print(summary)  # shown with -s or on failure
    assert report.passed, summary
    assert report.kills >= 10, summary  # fewer only if the machine is very slow
    assert len(report.exited_ok) >= 3, summary
    assert report.changes_checked == len(report.exited_ok), summary
    assert report.measures_checked >= 49, summary


# --- concurrency ------------------------------------------------------------------------------


def test_two_processes_x_100_changes_through_the_core_api(tmp_path: Path) -> None:
    report = concurrency.run_concurrently(100, folder=tmp_path / "api", timeout=300)
    summary = "\n".join(report.lines())
    print(summary)
    assert report.passed, summary
    assert report.locked_messages == 0, summary
    assert report.events_by_author == {"prozess-a": 100, "prozess-b": 100}, summary


def test_two_processes_x_3_changes_through_the_command_line(tmp_path: Path) -> None:
    """Every change a CLI process of its own: opening, switching to WAL, closing and
    checkpointing while the other process writes."""
    report = concurrency.run_concurrently(3, via="cli", folder=tmp_path / "cli", timeout=300)
    summary = "\n".join(report.lines())
    print(summary)
    assert report.passed, summary
    assert report.events_by_author == {"prozess-a": 3, "prozess-b": 3}, summary


@pytest.mark.parametrize("catalogue_form", ["lazy"])  # as `koordinator` starts its UI
async def test_a_ui_open_on_the_database_shows_the_other_processes_changes_after_r(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        before = {number: status_word(app, number) for number in ("1.2", "1.3")}
        # 31 changes each: 1.2, the first measure of process a, and 1.3, the first of
        # process b, are toggled three times, so they end in the other status.
        running = asyncio.ensure_future(
            asyncio.to_thread(concurrency.run_concurrently, 31, path=sample_path, timeout=300)
        )
        while not running.done():  # the UI keeps reading while the two processes write
            await pilot.press("r")
            await asyncio.sleep(0.2)
        report = running.result()
        assert report.passed, "\n".join(report.lines())

        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        with other_catalogue(sample_path, author="leserin") as reader:
            stored = {m.number: m.status for m in reader.list_measures()}
        for number, status in stored.items():
            assert status_word(app, number) == status.label, number
        assert status_word(app, "1.2") != before["1.2"]
        assert status_word(app, "1.3") != before["1.3"]
        await select(pilot, "1.2")
        assert "prozess-a" in details_text(app)
        await select(pilot, "1.3")
        assert "prozess-b" in details_text(app)
        assert not [n for n in notifications(app) if "fehlgeschlagen" in n or "gesperrt" in n]
    assert stored["1.2"] in (Status.ON_SCHEDULE, Status.DELAYED)


# --- the checks can fail ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_changes(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with two changes recorded as the crash loop's commands record them."""
    path = tmp_path_factory.mktemp("checked") / "geprueft.db"
    shutil.copyfile(built_sample, path)
    database = open_database(DatabaseTarget(path))
    try:
        worker = Catalogue(database, author=crash_loop.AUTHOR)
        worker.change_status("1.2", Status.DELAYED, note="run-1")
        worker.change_status("1.3", Status.ON_SCHEDULE, note="run-2")
    finally:
        database.close()
    return path


@pytest.fixture
def checked_copy(two_changes: Path, tmp_path: Path) -> Path:
    path = tmp_path / "geprueft.db"
    shutil.copyfile(two_changes, path)
    return path


def _runs() -> list[object]:
    return [
        crash_loop.Run(1, "1.2", "delayed", "finish", 0, "", 0.1),
        crash_loop.Run(2, "1.3", "on_schedule", "finish", 0, "", 0.1),
    ]


def test_the_checks_pass_on_an_intact_database(checked_copy: Path) -> None:
    report = crash_loop.Report(runs=_runs())
    crash_loop.full_check(checked_copy, report)
    assert report.passed, report.problems
    assert report.changes_checked == 2


def test_the_checks_find_a_lost_change(checked_copy: Path) -> None:
    connection = sqlite3.connect(checked_copy)
    with connection:
        connection.execute("DELETE FROM history_event WHERE note = 'run-2'")
    connection.close()
    report = crash_loop.Report(runs=_runs())
    crash_loop.full_check(checked_copy, report)
    assert any(
        "run-2" in problem and "not in the history" in problem for problem in report.problems
    )
    # ... and the state that change left behind no longer matches the history.
    assert any(problem.startswith("1.3:") for problem in report.problems)


def test_the_checks_find_a_state_that_is_not_its_history(checked_copy: Path) -> None:
    connection = sqlite3.connect(checked_copy)
    with connection:
        connection.execute("UPDATE measure SET status = 'established' WHERE number = '1.2'")
    connection.close()
    problems, _ = crash_loop.check_consistency(checked_copy)
    assert problems == [
        "1.2: stored state differs from its history: status: „established“, laut Verlauf „delayed“"
    ]


def test_the_concurrency_check_finds_a_lost_change(checked_copy: Path) -> None:
    report = concurrency.Report("api", 1, 1)
    report.workers.append(concurrency.WorkerResult("crash-loop", done=1))
    concurrency._check(checked_copy, report, ["crash-loop"])
    assert any("2 events, expected 1" in problem for problem in report.problems)
