"""Properties of snapshots, for random catalogues and random damage (hypothesis).

1. Whatever a coordinator does through the catalogue service, the database agrees with its
   own history, and export -> import into an empty database -> export gives the same bytes
   (apart from the export time); importing again has nothing to do.
2. A damaged snapshot is either refused with a one-line error naming the file (and a line
   wherever TOML has one), leaving the database untouched, or imported exactly as it reads.
   Never a traceback, never half an import.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koordinator.core.dates import LooseDate
from koordinator.core.errors import KoordinatorError, SnapshotError
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import check, import_snapshots, loads, prepare_export, snapshot_of
from koordinator.core.store.sample import fill_sample
from koordinator.core.store.sqlite_store import create_database
from koordinator.core.workflow import DelayInput, Status
from snapshot_helpers import TickingClock, dump, empty_database, opened, without_export_time

TODAY = date(2021, 6, 1)

# Text as people type it, umlauts, quotes, backslashes and line breaks included (no NUL, which
# the catalogue service would pass to SQLite's checks).
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    max_size=12,
)
titles = texts.filter(lambda text: text.strip() != "")


@st.composite
def loose_dates(draw: st.DrawFn) -> LooseDate:
    day = draw(st.dates(min_value=date(2019, 1, 1), max_value=date(2023, 12, 31)))
    precision = draw(st.integers(1, 3))
    return LooseDate(
        day.year, day.month if precision > 1 else None, day.day if precision > 2 else None
    )


measure = st.integers(0, 30)  # an index into the measures that exist, modulo their number
operations = st.one_of(
    st.tuples(st.just("create"), st.integers(1, 4), titles, texts),
    st.tuples(st.just("status"), measure, st.sampled_from(list(Status)), texts),
    st.tuples(st.just("edit"), measure, st.sampled_from(["title", "unit", "note"]), titles),
    st.tuples(st.just("milestone"), measure, titles, st.none() | loose_dates(), st.booleans()),
    st.tuples(st.just("complete"), measure, st.none() | loose_dates()),
    st.tuples(st.just("edit_milestone"), measure, st.none() | loose_dates()),
    st.tuples(st.just("delete_milestone"), measure),
    st.tuples(st.just("edit_delay"), measure, texts, st.none() | loose_dates()),
    st.tuples(
        st.just("delay"),
        measure,
        st.sampled_from(["corona", "Lieferengpass"]),
        loose_dates(),
        st.none() | loose_dates(),
    ),
    st.tuples(
        st.just("resolve"), measure, st.sampled_from([Status.ON_SCHEDULE, Status.ESTABLISHED])
    ),
    st.tuples(st.just("undo")),
)


def apply(worker: Catalogue, operation: tuple[Any, ...]) -> None:
    """One user action; one the service refuses (a wrong move, nothing open) changes nothing."""
    kind, *args = operation
    numbers = [m.number for m in worker.list_measures()]
    number = numbers[args[0] % len(numbers)] if numbers and kind != "create" and args else ""
    try:
        match kind:
            case "create":
                worker.create_measure(args[0], args[1], unit=args[2])
            case "status" if number:
                worker.change_status(
                    number, args[1], note=args[2], receiving_unit="FB 11", reason="zu teuer"
                )
            case "edit" if number:
                worker.edit_measure(number, **{args[1]: args[2]})
            case "milestone" if number:
                worker.add_milestone(number, args[1], due=args[2], done=args[3])
            case "complete" if number:
                worker.complete_milestone(number, on=args[1])
            case "edit_milestone" if number:
                milestones = worker.measure(number).milestones
                if milestones:
                    worker.edit_milestone(
                        number, milestones[0].id, due=args[1], clear_due=args[1] is None
                    )
            case "delete_milestone" if number:
                milestones = worker.measure(number).milestones
                if milestones:
                    worker.delete_milestone(number, milestones[-1].id)
            case "edit_delay" if number:
                worker.edit_delay(number, note=args[1], until=args[2], clear_until=args[2] is None)
            case "delay" if number:
                worker.log_delay(number, DelayInput(cause=args[1], since=args[2], until=args[3]))
            case "resolve" if number:
                worker.resolve_delays(number, return_to=args[1])
            case "undo":
                worker.undo_last()
    except KoordinatorError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=1, max_size=20))
def test_random_catalogues_round_trip_exactly(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = empty_database(Path(folder) / "a" / "k.db")
        with opened(source) as database:
            worker = Catalogue(database, author="Anna", today=lambda: TODAY, clock=TickingClock())
            for step in steps:
                apply(worker, step)
            snapshot = snapshot_of(database, author="Anna")
            # The service and the replay agree: the database is what its history says.
            assert not [
                f for f in check(snapshot, today=TODAY, stale_months=0) if "Verlauf" in f.text
            ]
            original = prepare_export(database, author="Anna").text
        snapshot_file = Path(folder) / "s.toml"
        snapshot_file.write_text(original, encoding="utf-8")
        target = empty_database(Path(folder) / "b" / "k.db")
        with opened(target) as database:
            import_snapshots(database, [snapshot_file])
            again = prepare_export(database, author="Anna").text
            assert import_snapshots(database, [snapshot_file]).nothing_to_do
        assert without_export_time(again) == without_export_time(original)


# --- random damage -------------------------------------------------------------------------------

_base: dict[str, str] = {}


def base_text() -> str:
    """The sample catalogue with edits, a cleared due date and undos (every kind of event)."""
    if not _base:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "k.db"
            create_database(path, fill=fill_sample)
            with opened(path) as database:
                worker = Catalogue(
                    database, author="Anna", today=lambda: TODAY, clock=TickingClock()
                )
                worker.edit_measure("1.2", note="neu")
                milestone = worker.add_milestone("1.2", "Pilot", due=LooseDate(2021, 6))
                worker.edit_milestone("1.2", milestone.id, clear_due=True)
                worker.complete_milestone("1.2", "Pilot")
                worker.log_delay("1.4", DelayInput(since=LooseDate(2021)))
                worker.resolve_delays("1.3", on=LooseDate(2021, 5))
                worker.change_status("1.5", Status.DROPPED, reason="zu teuer")
                worker.undo_last()
                _base["text"] = prepare_export(database, author="Anna").text
    return _base["text"]


values = st.sampled_from(
    [
        '"x"',
        '""',
        "0",
        "-1",
        "2",
        "true",
        '"2021-13"',
        '"2021"',
        '"planning"',
        '"dropped"',
        "[]",
        '["until"]',
        "{}",
        "1979-05-27",
        '"5f0c2a3e-6f43-4c1e-9a57-6b6f6f7264e1"',
        '"2021-03-01T09:00:01.000000Z"',
        '"\\u0000"',
        "[[measures]]",
        "[measures.events.details]",
    ]
)


@st.composite
def damage(draw: st.DrawFn) -> str:
    lines = base_text().splitlines(keepends=True)
    index = draw(st.integers(0, len(lines) - 1))
    match draw(
        st.sampled_from(["delete", "duplicate", "swap", "value", "char", "truncate", "insert"])
    ):
        case "delete":
            del lines[index]
        case "duplicate":
            lines.insert(index, lines[index])
        case "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        case "value":
            key, equals, _ = lines[index].partition("=")
            if equals:
                lines[index] = f"{key}= {draw(values)}\n"
            else:
                lines[index] = draw(values) + "\n"
        case "char":
            line = lines[index]
            at = draw(st.integers(0, max(len(line) - 1, 0)))
            lines[index] = (
                line[:at]
                + draw(st.characters(codec="utf-8", exclude_categories=("Cs",)))
                + line[at + 1 :]
            )
        case "truncate":
            del lines[index:]
        case "insert":
            key = draw(st.sampled_from(["note", "status", "id", "extra", "done", "until", "_null"]))
            lines.insert(index, f"{key} = {draw(values)}\n")
    return "".join(lines)


LOCATED = re.compile(r"kaputt\.toml(?::(\d+))?: \S")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage())
def test_damage_is_refused_with_a_place_or_imported_exactly(damaged: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kaputt.toml"
        path.write_text(damaged, encoding="utf-8")
        try:
            expected = loads(damaged, str(path))
        except SnapshotError as error:
            _assert_located(str(error), folder, damaged)
            return
        # Readable: into a database without even the fields of action, it must arrive as is.
        target = Path(folder) / "k.db"
        create_database(target)
        before = dump(target)
        with opened(target) as database:
            try:
                import_snapshots(database, [path])
            except SnapshotError as error:
                _assert_located(str(error), folder, damaged)
                assert dump(target) == before
                return
            arrived = snapshot_of(database, author="x")
        assert arrived.measures == expected.measures
        assert arrived.fields == expected.fields


def _assert_located(message: str, folder: str, text: str) -> None:
    assert "\n" not in message
    assert message.startswith(folder)
    match = LOCATED.match(message[len(folder) + 1 :])
    assert match, message
    if match.group(1):
        assert 1 <= int(match.group(1)) <= len(text.splitlines()) + 1
