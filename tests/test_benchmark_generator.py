"""The benchmark generator (benchmarks/generate.py) builds databases koordinator trusts.

A generated catalogue must be indistinguishable from one built through the Catalogue: it
opens, its stored state is exactly what its own history replays to (no "history mismatch"
in the export checks), and it survives export -> import into an empty database -> export
byte for byte.  Otherwise the benchmarks would measure a database no user can have.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from koordinator.core import replay
from koordinator.core.files import write_text
from koordinator.core.numbers import MAX_SEQUENCE
from koordinator.core.snapshot import check, dumps, import_snapshots, snapshot_of
from koordinator.core.store.models import Delay, FieldOfAction, HistoryEvent, Measure, Milestone
from koordinator.core.store.sample import fill_fields_only
from koordinator.core.store.sqlite_store import DatabaseTarget, create_database, open_database
from koordinator.core.workflow import Status, check_move
from snapshot_helpers import benchmark_generator

MEASURES = 50
KINDS = {
    "measure_created",
    "measure_edited",
    "status_changed",
    "milestone_added",
    "milestone_completed",
    "delay_logged",
    "delay_resolved",
}


generate = benchmark_generator()


def _clock() -> datetime:
    return datetime(2025, 7, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("generated") / "katalog.db"
    counts = generate.generate(path, MEASURES, seed=7)
    return path, counts


def test_counts_are_as_asked(generated: tuple[Path, object]) -> None:
    path, counts = generated
    database = open_database(DatabaseTarget(path))
    try:
        with database.read() as session:
            measures = session.scalar(select(func.count()).select_from(Measure))
            events = session.scalar(select(func.count()).select_from(HistoryEvent))
            milestones = session.scalar(select(func.count()).select_from(Milestone))
            delays = session.scalar(select(func.count()).select_from(Delay))
            grouped = select(Measure.field_code, func.count()).group_by(Measure.field_code)
            by_field = dict(session.execute(grouped).all())
            kinds = set(session.scalars(select(HistoryEvent.kind).distinct()))
            titles = list(session.scalars(select(Measure.title)))
            units = set(session.scalars(select(Measure.unit)))
    finally:
        database.close()
    assert measures == counts.measures == MEASURES  # type: ignore[attr-defined]
    assert (events, milestones, delays) == (
        counts.events,  # type: ignore[attr-defined]
        counts.milestones,  # type: ignore[attr-defined]
        counts.delays,  # type: ignore[attr-defined]
    )
    assert 9 * MEASURES <= events <= 12 * MEASURES  # ~10 history events each
    assert 2.5 * MEASURES <= milestones <= 3.7 * MEASURES  # ~3 milestones each
    assert delays > 0
    assert by_field == {1: 17, 2: 8, 3: 15, 4: 10}  # the real catalogue's 16 / 8 / 15 / 10
    assert kinds == KINDS
    assert len(set(titles)) == MEASURES
    assert all(title.startswith(f"Maßnahme M{i:06d}: ") for i, title in enumerate(titles, 1))
    assert "FB 12" in units


def test_stored_state_is_what_the_history_replays_to(generated: tuple[Path, object]) -> None:
    path, _ = generated
    database = open_database(DatabaseTarget(path), read_only=True)
    try:
        snapshot = snapshot_of(database, author="bench", clock=_clock)
    finally:
        database.close()
    assert len(snapshot.measures) == MEASURES
    statuses: Counter[str] = Counter()
    for record in snapshot.measures:
        assert list(replay.differences(record.state, replay.replay(record.events).state)) == []
        stamps = [event.occurred_at for event in record.events]
        assert all(len(stamp) == 27 and stamp.endswith("Z") for stamp in stamps)
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), record.state.number
        for event in record.events:
            if event.kind == "status_changed":
                check_move(
                    Status(event.from_status),
                    Status(event.to_status),
                    note=event.note,
                    receiving_unit=event.details.get("receiving_unit", ""),
                    reason=event.details.get("reason", ""),
                    has_delay="delay" in event.details,
                )
        statuses[record.state.status] += 1
    assert len(statuses) >= 4
    findings = [str(f) for f in check(snapshot, today=date(2025, 7, 1))]
    assert not [f for f in findings if "Verlauf" in f or "Verzögerung" in f], findings


def test_export_import_export_is_byte_identical(
    generated: tuple[Path, object], tmp_path: Path
) -> None:
    path, _ = generated
    database = open_database(DatabaseTarget(path), read_only=True)
    try:
        first = dumps(snapshot_of(database, author="bench", clock=_clock))
    finally:
        database.close()
    snapshot_file = write_text(tmp_path / "stand.toml", first).path
    # The same file name, so that the snapshot's "source" is the same too.
    empty = tmp_path / "empty" / path.name
    empty.parent.mkdir()
    create_database(empty, fill=fill_fields_only)
    target = open_database(DatabaseTarget(empty))
    try:
        result = import_snapshots(target, [snapshot_file])
        assert result.plan.new_event_count == first.count("[[measures.events]]")
        second = dumps(snapshot_of(target, author="bench", clock=_clock))
    finally:
        target.close()
    assert second == first


def test_same_seed_same_content_other_seed_other_content() -> None:
    one, two, other = (generate.build(20, seed) for seed in (3, 3, 4))
    assert one.events == two.events and one.measures == two.measures
    assert one.milestones == two.milestones and one.delays == two.delays
    assert one.events != other.events


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "k.db"
    assert generate.main(["--measures", "5", "-o", str(path)]) == 0
    assert "5 measures" in capsys.readouterr().out
    assert generate.main(["--measures", "5", "-o", str(path)]) == 2  # never overwrites silently
    assert generate.main(["--measures", "5", "-o", str(path), "--overwrite"]) == 0


def test_a_large_catalogue_keeps_every_number_within_the_limit(tmp_path: Path) -> None:
    # Field 1 holds 16 of 49 measures: from about 3,060 measures on it would need 1.1000,
    # which every import refuses (a 10,000-measure benchmark could not be imported at all).
    path = tmp_path / "large.db"
    generate.generate(path, 3_100)
    database = open_database(DatabaseTarget(path), read_only=True)
    try:
        with database.read() as session:
            sequences = session.execute(select(func.max(Measure.sequence))).scalar_one()
            fields = set(session.execute(select(Measure.field_code)).scalars())
            known = set(session.execute(select(FieldOfAction.code)).scalars())
    finally:
        database.close()
    assert sequences <= MAX_SEQUENCE
    assert fields <= known and len(fields) > 4
