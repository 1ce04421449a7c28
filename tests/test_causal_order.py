"""Skewed laptop clocks never reorder a change made after seeing another (issue 14, item 2).

Ben's laptop runs 10 minutes fast.  Anna imports his change and then changes the measure
herself: her change must come after his in every database's replay, whatever her clock
says.  The changes are made through the service with a skewed clock (no process can be
given another system time here); the snapshots go between the databases through the real
`koordinator export` / `import` processes.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from koordinator.core.dates import causal_timestamp, timestamp
from koordinator.core.errors import NOTHING_TO_UNDO
from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database
from koordinator.core.workflow import Status
from test_cli_parity import SAMPLE_DB, koordinator, shown

NOW = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)


@contextmanager
def catalogue(path: Path, author: str, offset: timedelta) -> Iterator[Catalogue]:
    database = open_database(DatabaseTarget(path))
    try:
        yield Catalogue(database, author=author, clock=lambda: NOW + offset)
    finally:
        database.close()


def exchange(source: Path, target: Path, name: str) -> None:
    snapshot = source.with_name(name)
    done = koordinator(source, "export", "-o", str(snapshot))
    assert done.returncode == 0, done.stderr
    done = koordinator(target, "import", str(snapshot))
    assert done.returncode == 0, done.stderr
    for path in (source, target):
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_change_made_after_seeing_a_fast_clocks_change_comes_after_it(tmp_path: Path) -> None:
    anna, ben, fb12 = (tmp_path / f"{name}.db" for name in ("anna", "ben", "fb12"))
    for path in (anna, ben, fb12):
        shutil.copyfile(SAMPLE_DB, path)
    with catalogue(ben, "ben", timedelta(minutes=10)) as ben_catalogue:
        ben_catalogue.change_status("1.2", Status.DELAYED)
    exchange(ben, anna, "ben.toml")
    with catalogue(anna, "anna", timedelta(0)) as anna_catalogue:  # her clock is right
        anna_catalogue.change_status("1.2", Status.ON_SCHEDULE)
    assert shown(anna, "1.2")["status"] == "on_schedule"
    # Her history replays to her state: her snapshot is accepted everywhere.
    exchange(anna, fb12, "anna.toml")
    assert shown(fb12, "1.2")["status"] == "on_schedule"
    # Ben's next snapshot (a note edit on his fast clock, before he saw Anna's) does not
    # silently revert her status: his edit and her move both stand.
    with catalogue(ben, "ben", timedelta(minutes=10, seconds=30)) as ben_catalogue:
        ben_catalogue.edit_measure("1.2", note="Rückfrage an FB 12")
    exchange(ben, fb12, "ben-2.toml")
    exchange(ben, anna, "ben-3.toml")
    for path in (anna, fb12):
        measure = shown(path, "1.2")
        assert (measure["status"], measure["note"]) == ("on_schedule", "Rückfrage an FB 12")


def test_a_new_event_is_ordered_after_the_newest_event_the_database_holds() -> None:
    wall = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
    assert causal_timestamp(wall, None) == timestamp(wall)
    assert causal_timestamp(wall, "2021-03-01T08:59:59.000000Z") == timestamp(wall)
    assert causal_timestamp(wall, "2021-03-01T09:10:00.000000Z") == "2021-03-01T09:10:00.000001Z"
    assert causal_timestamp(wall, timestamp(wall)) == "2021-03-01T09:00:00.000001Z"


def test_undo_after_a_merge_brings_back_what_stood_before_it_in_the_merged_history(
    tmp_path: Path,
) -> None:
    """Cem edited 1.2's note first; Anna, not having seen it, edited it after him.  Once
    Anna has merged Cem's change, her undo brings back Cem's note, not the one her own
    edit had replaced, in her database and in FB 12's."""
    anna, cem, fb12 = (tmp_path / f"{name}.db" for name in ("anna", "cem", "fb12"))
    for path in (anna, cem, fb12):
        shutil.copyfile(SAMPLE_DB, path)
    original = shown(anna, "1.2")["note"]
    with catalogue(cem, "cem", timedelta(minutes=-5)) as cem_catalogue:
        cem_catalogue.edit_measure("1.2", note="Cems Stand")
    with catalogue(anna, "anna", timedelta(0)) as anna_catalogue:
        anna_catalogue.edit_measure("1.2", note="Annas Stand")
    exchange(cem, anna, "cem.toml")
    assert shown(anna, "1.2")["note"] == "Annas Stand"  # hers is the later change
    with catalogue(anna, "anna", timedelta(minutes=1)) as anna_catalogue:
        anna_catalogue.undo_last()
    assert shown(anna, "1.2")["note"] == "Cems Stand" != original
    exchange(anna, fb12, "anna.toml")
    assert shown(fb12, "1.2")["note"] == "Cems Stand"


def test_a_later_move_does_not_overwrite_the_day_a_delay_was_resolved_on(tmp_path: Path) -> None:
    """Anna resolved 1.3's delay as of 03/2021; Ben, not having seen that, moved 1.3 from
    delayed to established today (which resolves open delays today).  Merged, 1.3 is
    established (the later move) and the delay stays resolved 03/2021."""
    anna, ben, fb12 = (tmp_path / f"{name}.db" for name in ("anna", "ben", "fb12"))
    for path in (anna, ben, fb12):
        shutil.copyfile(SAMPLE_DB, path)
    done = koordinator(anna, "--as", "anna", "delay", "1.3", "--resolve", "--on", "2021-03")
    assert done.returncode == 0, done.stderr
    done = koordinator(ben, "--as", "ben", "status", "1.3", "established")
    assert done.returncode == 0, done.stderr
    exchange(ben, anna, "ben.toml")
    exchange(anna, fb12, "anna.toml")
    for path in (anna, fb12):
        measure = shown(path, "1.3")
        assert measure["status"] == "established"
        assert [delay["resolved_on"] for delay in measure["delays"]] == ["2021-03"]


def two_coordinators(tmp_path: Path) -> tuple[Path, Path, str]:
    """Anna's and Ben's copies of the sample, and the title of 2.2's open milestone."""
    anna, ben = tmp_path / "anna.db", tmp_path / "ben.db"
    shutil.copyfile(SAMPLE_DB, anna)
    shutil.copyfile(SAMPLE_DB, ben)
    (open_milestone,) = [m for m in shown(anna, "2.2")["milestones"] if not m["done"]]
    return anna, ben, open_milestone["title"]


def history_ids(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM history_event")}


def confirmed(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr


def test_undo_of_a_change_a_merge_made_a_conflict_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    """Anna deletes 2.2's open milestone; Ben, not having seen that, marks it reached, then
    imports her snapshot: her deletion comes first, his "reached" did not apply.  His
    `koordinator undo --yes` crashed with a traceback ("LookupError: milestone … not
    found"); now it says there is nothing of his to undo, and both databases end up with
    every confirmed change."""
    anna, ben, title = two_coordinators(tmp_path)
    confirmed(koordinator(anna, "--as", "anna", "milestone", "2.2", title, "--delete"))
    confirmed(koordinator(ben, "--as", "ben", "milestone", "2.2", title, "--complete"))
    exchange(anna, ben, "anna.toml")
    undo = koordinator(ben, "--as", "ben", "undo", "--yes")
    assert (undo.returncode, undo.stdout) == (2, "")
    assert undo.stderr.strip().splitlines() == [f"koordinator: {NOTHING_TO_UNDO}"]
    exchange(ben, anna, "ben.toml")
    assert history_ids(anna) == history_ids(ben)
    for db in (anna, ben):
        assert title not in [m["title"] for m in shown(db, "2.2")["milestones"]]


def test_an_undo_whose_change_a_merge_made_a_conflict_still_travels(tmp_path: Path) -> None:
    """Ben deletes 2.2's open milestone; Anna, not having seen that, deletes it too and
    undoes her deletion, then imports Ben's snapshot: his deletion comes first, so neither
    her deletion nor her undo applies.  Ben's import of her snapshot was refused ("passt
    nicht zum rückgängig gemachten Ereignis"), for good; now it imports, and both hold
    every confirmed change and the same 2.2."""
    anna, ben, title = two_coordinators(tmp_path)
    confirmed(koordinator(ben, "--as", "ben", "milestone", "2.2", title, "--delete"))
    confirmed(koordinator(anna, "--as", "anna", "milestone", "2.2", title, "--delete"))
    confirmed(koordinator(anna, "--as", "anna", "undo", "--yes"))
    assert title in [m["title"] for m in shown(anna, "2.2")["milestones"]]  # undone locally
    exchange(ben, anna, "ben.toml")
    exchange(anna, ben, "anna.toml")
    assert history_ids(anna) == history_ids(ben)
    assert shown(anna, "2.2") == shown(ben, "2.2")
    assert title not in [m["title"] for m in shown(anna, "2.2")["milestones"]]
