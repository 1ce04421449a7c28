"""The committed sample.db is exactly what the sample catalogue builds, and says how sure it is.

sample.db is rebuilt with `koordinator init --sample --db sample.db --overwrite`; these tests
catch a commit that changed the sample data or the schema without rebuilding it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from koordinator.core.store.sample import fill_sample, load_sample
from koordinator.core.store.sqlite_store import create_database
from snapshot_helpers import table_rows

COMMITTED = Path(__file__).parents[1] / "sample.db"


def _content(path: Path) -> dict[str, Any]:
    """Every table's rows (sorted), the schema version and the schema's objects, read
    without writing."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return table_rows(path) | {
            "PRAGMA user_version": connection.execute("PRAGMA user_version").fetchone()[0],
            "sqlite_master": sorted(
                connection.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
            ),
        }
    finally:
        connection.close()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    create_database(path, fill=fill_sample)
    return _content(path)


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    assert COMMITTED.is_file(), f"{COMMITTED} is missing"
    return _content(COMMITTED)


def test_the_committed_sample_has_the_current_schema_version(
    committed: dict[str, Any], fresh: dict[str, Any]
) -> None:
    assert committed["PRAGMA user_version"] == fresh["PRAGMA user_version"]


def test_the_committed_sample_has_the_same_tables_and_indexes(
    committed: dict[str, Any], fresh: dict[str, Any]
) -> None:
    assert committed["sqlite_master"] == fresh["sqlite_master"]


@pytest.mark.parametrize(
    "table", ["field_of_action", "measure", "milestone", "delay", "history_event"]
)
def test_the_committed_sample_equals_a_fresh_build(
    committed: dict[str, Any], fresh: dict[str, Any], table: str
) -> None:
    assert fresh[table], f"a fresh build has no {table} rows"
    assert committed[table] == fresh[table]


def test_a_fresh_build_is_deterministic(fresh: dict[str, Any], tmp_path: Path) -> None:
    """Ids and timestamps come from the data, so two builds are identical row for row."""
    again = tmp_path / "again.db"
    create_database(again, fill=fill_sample)
    assert _content(again) == fresh


# --- the basis of each status stays visible ------------------------------------------------


@pytest.fixture(scope="module")
def notes(committed: dict[str, Any]) -> dict[str, str]:
    connection = sqlite3.connect(f"file:{COMMITTED}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT number, note FROM measure"))
    finally:
        connection.close()


def test_every_measure_note_names_the_basis_of_its_status(notes: dict[str, str]) -> None:
    assert len(notes) == 49
    missing = [number for number, note in notes.items() if "Grundlage: Status" not in note]
    assert missing == []


def test_assumed_statuses_are_marked_as_assumptions(notes: dict[str, str]) -> None:
    data = {entry["number"]: entry for entry in load_sample()["measures"]}
    assert set(data) == set(notes)
    assumed = {number for number, entry in data.items() if entry["status_basis"] == "assumed"}
    assert assumed, "the sample data should contain assumed statuses"
    marked = {number for number, note in notes.items() if "Status angenommen" in note}
    # Every assumption is marked, and no stated or inferred status is passed off as one.
    assert marked == assumed


def test_assumed_numbers_are_marked_as_assumptions(notes: dict[str, str]) -> None:
    data = {entry["number"]: entry for entry in load_sample()["measures"]}
    assumed = {number for number, entry in data.items() if entry["number_basis"] == "assumed"}
    marked = {number for number, note in notes.items() if "Nummer angenommen" in note}
    assert marked == assumed


def test_the_reports_own_notes_are_kept_before_the_basis(notes: dict[str, str]) -> None:
    data = {entry["number"]: entry for entry in load_sample()["measures"]}
    for number, entry in data.items():
        if entry["note"]:
            assert notes[number].startswith(entry["note"]), number
