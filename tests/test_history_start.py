"""A measure's history starts with one "measure_created" (replay.creation), and the three
places that rely on it say so in their own words: the replay, the export's checks and the
snapshot reader."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from koordinator.core import replay
from koordinator.core.errors import SnapshotError
from koordinator.core.snapshot import check, snapshot_of
from koordinator.core.snapshot_reader import loads
from koordinator.core.store.sqlite_store import SqliteStore
from snapshot_helpers import export_text

# 1.1's creation and the status move after it, as the sample's export writes them.
CREATED_AT = 'occurred_at = "2019-03-12T12:00:00.000000Z"'
AFTER_THE_FIRST_MOVE = 'occurred_at = "2020-12-31T12:00:01.500000Z"'


def test_the_rule_names_the_creation_only_when_it_comes_first(database: SqliteStore) -> None:
    events = snapshot_of(database, author="x").measures[0].events
    assert replay.creation(events) is events[0]
    assert replay.creation(events[1:]) is None
    assert replay.creation(()) is None


def test_a_replay_needs_the_creation_first(database: SqliteStore) -> None:
    events = snapshot_of(database, author="x").measures[0].events
    with pytest.raises(ValueError, match=r"^a measure's history starts with measure_created$"):
        replay.replay(events[1:])


def test_the_export_checks_name_a_history_without_its_creation(database: SqliteStore) -> None:
    snapshot = snapshot_of(database, author="x")
    record = snapshot.measures[0]
    headless = dataclasses.replace(record, events=record.events[1:])
    damaged = dataclasses.replace(snapshot, measures=(headless,))
    assert [str(f) for f in check(damaged, today=date(2021, 1, 2))] == [
        "1.1: Stand passt nicht zum eigenen Verlauf – der Verlauf beginnt nicht mit dem Anlegen"
    ]


def test_a_file_whose_history_does_not_start_with_its_creation_is_refused(
    sample_path: Path,
) -> None:
    text = export_text(sample_path)
    assert text.count(CREATED_AT) >= 1
    late = text.replace(CREATED_AT, AFTER_THE_FIRST_MOVE, 1)
    with pytest.raises(SnapshotError) as raised:
        loads(late, "spaet.toml")
    message = str(raised.value)
    assert message.startswith("spaet.toml:"), message
    assert "Maßnahme 1.1" in message
    assert "der Verlauf muss mit genau einem „measure_created“ beginnen" in message


def test_a_file_with_a_second_creation_is_refused(sample_path: Path) -> None:
    text = export_text(sample_path)
    # A copy of 1.1's creation, with its own id, right after 1.1's first status move.
    header = "[[measures.events]]\n"
    begin = text.index(header)
    created = text[begin : text.index(header, begin + 1)]
    assert 'kind = "measure_created"' in created and CREATED_AT in created
    old_id = created.split('id = "', 1)[1][:36]
    new_id = ("f" if old_id[0] != "f" else "e") + old_id[1:]
    second = created.replace(CREATED_AT, AFTER_THE_FIRST_MOVE).replace(old_id, new_id)
    after_the_move = text.index(header, text.index('kind = "status_changed"'))
    doubled = text[:after_the_move] + second + text[after_the_move:]
    with pytest.raises(SnapshotError) as raised:
        loads(doubled, "doppelt.toml")
    message = str(raised.value)
    assert "Maßnahme 1.1" in message
    assert "der Verlauf muss mit genau einem „measure_created“ beginnen" in message
