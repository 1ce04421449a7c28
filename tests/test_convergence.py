"""Many coordinators, one catalogue: merges converge and lose nothing (issue 14, item 3).

Three or four replicas start as copies of one database.  Each acts for its own author on a
laptop clock that runs up to almost half a day fast or slow, through the catalogue service
the CLI and the UI use; between their changes they hand snapshot files around (exported and
imported the way `koordinator export -o` / `import` do it, one or several files at once).
Once every replica holds the same events:

1. their exports are byte-identical apart from the header lines that name the export
   (exported_at, author, source);
2. every change the service confirmed (its event) is in every replica's history, every
   measure ever created is there, no export finds a state that contradicts itself or its
   history, and every replica's export imports again;
3. every database passes SQLite's integrity check.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koordinator.core.dates import LooseDate
from koordinator.core.errors import KoordinatorError
from koordinator.core.files import write_text
from koordinator.core.history import EventKind
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import import_snapshots, load, prepare_export, snapshot_of
from koordinator.core.snapshot_format import Snapshot
from koordinator.core.store.sqlite_store import SqliteStore
from koordinator.core.workflow import DelayInput, Status, allowed_moves
from snapshot_helpers import empty_database, opened
from test_snapshot_properties import loose_dates, texts, titles

START = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
FIELDS = (1, 2, 3, 4)  # the fields of action of `empty_database`
# A replica's clock is off by less than this, either way: any two clocks stay less than
# the 24 hours apart after which an import refuses an event as dated in the future
# (snapshot_reader.MAX_AHEAD), which would be a refusal, not a merge.
MAX_SKEW = timedelta(hours=12) - timedelta(minutes=1)


@pytest.fixture(scope="module")
def start_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database every replica starts as a copy of: one measure in each field, those
    of fields 1 and 3 with a milestone and delayed, recorded by FB 12 before the quarter
    starts.  Few measures, so that the replicas often change the same one."""
    path = empty_database(tmp_path_factory.mktemp("start") / "start.db")
    clock = iter(START - timedelta(days=30, seconds=-second) for second in range(100))
    with opened(path) as database:
        fb12 = Catalogue(database, author="FB 12", today=START.date, clock=lambda: next(clock))
        for code in FIELDS:
            measure = fb12.create_measure(code, f"Maßnahme in Feld {code}", unit="FB 12")
            if code % 2:
                fb12.add_milestone(measure.number, "Pilot", due=LooseDate(2021, 6))
                fb12.change_status(measure.number, Status.DELAYED)
    return path


# --- what a coordinator does ---------------------------------------------------------------

measure_index = st.integers(0, 40)  # into the replica's measures, modulo their number
# Mostly what coordinators type (umlauts, quotes, a backslash), sometimes anything the
# snapshot properties try; a text the catalogue cannot hold is refused, which is fine.
words = st.sampled_from(
    ["Pilot", "Rückfrage an FB 12", "Übergabe „geplant“", 'Server "alt"', "C:\\Daten", "FB 20"]
)
plain_texts = st.one_of(words, words, texts)
plain_titles = st.one_of(words, words, titles)
# An index into the moves the measure's status allows, or any status (mostly refused).
targets = st.one_of(st.integers(0, 4), st.integers(0, 4), st.sampled_from(list(Status)))
# Empty texts too: a hand-over without a receiving unit or a reopening without a note is
# refused by the workflow, which changes nothing.
optional_texts = st.sampled_from(["", "FB 20", "zu teuer", "wieder aufgenommen"]) | plain_texts
delays = st.builds(
    DelayInput,
    cause=st.sampled_from(["corona", "Lieferengpass", "Personal"]),
    since=st.none() | loose_dates(),
    until=st.none() | loose_dates(),
    note=st.just("") | plain_texts,
)

operations = st.one_of(
    # Any replica in any field: two new measures with one number are resolved on import.
    st.tuples(st.just("create"), plain_titles, plain_texts, st.sampled_from(FIELDS)),
    st.tuples(st.just("renumber"), measure_index, st.sampled_from(FIELDS), st.integers(1, 8)),
    st.tuples(st.just("status"), measure_index, targets, optional_texts, optional_texts, delays),
    st.tuples(
        st.just("edit"), measure_index, st.sampled_from(["title", "unit", "note"]), plain_titles
    ),
    st.tuples(
        st.just("milestone"), measure_index, plain_titles, st.none() | loose_dates(), st.booleans()
    ),
    st.tuples(st.just("complete"), measure_index, st.none() | loose_dates()),
    st.tuples(
        st.just("edit_milestone"),
        measure_index,
        st.integers(0, 3),
        st.none() | plain_titles,
        st.none() | loose_dates(),
        st.none() | plain_texts,
    ),
    st.tuples(st.just("delay"), measure_index, delays),
    st.tuples(st.just("delete_milestone"), measure_index, st.integers(0, 3)),
    st.tuples(
        st.just("edit_delay"),
        measure_index,
        st.none() | st.sampled_from(["corona", "Personal"]),
        st.none() | loose_dates(),
        st.none() | plain_texts,
    ),
    st.tuples(
        st.just("resolve"),
        measure_index,
        st.none() | loose_dates(),
        st.sampled_from([Status.ON_SCHEDULE, Status.ESTABLISHED]),
    ),
    st.tuples(st.just("undo")),
    st.tuples(st.just("undo")),  # twice as often: undo after a merge is where merges break
)


@dataclass
class World:
    """The time that passes for everyone; each replica's clock is off from it by its skew."""

    now: datetime = START

    def clock(self, skew: timedelta) -> Any:
        return lambda: self.now + skew

    def today(self, skew: timedelta) -> Any:
        return lambda: (self.now + skew).date()


@dataclass
class Replica:
    path: Path
    author: str
    skew: timedelta
    database: SqliteStore
    catalogue: Catalogue
    confirmed: set[str] = field(default_factory=set)  # ids of the events the service confirmed
    created: set[str] = field(default_factory=set)  # ids of its measures' creation events


def act(replica: Replica, operation: tuple[Any, ...]) -> None:
    """One user action through the service; a refusal (KoordinatorError) changed nothing and
    confirmed nothing.  What was confirmed is the event it added to the history."""
    worker = replica.catalogue
    kind, *args = operation
    numbers = [measure.number for measure in worker.list_measures()]
    number = numbers[args[0] % len(numbers)] if kind not in ("create", "undo") else ""
    if not numbers and kind not in ("create", "undo"):
        return
    before = newest_event(worker)
    try:
        match kind:
            case "create":
                worker.create_measure(args[2], args[0], unit=args[1])
            case "renumber":
                worker.renumber(number, f"{args[1]}.{args[2]}")
            case "status":
                choice, text, other_text, delay = args[1:]
                target = choice
                if isinstance(choice, int):
                    moves = allowed_moves(worker.measure(number).measure.status)
                    target = moves[choice % len(moves)]
                worker.change_status(
                    number,
                    target,
                    note=text,
                    receiving_unit=other_text,
                    reason=other_text,
                    delay=delay if target == Status.DELAYED else None,
                )
            case "edit":
                worker.edit_measure(number, **{args[1]: args[2]})
            case "milestone":
                worker.add_milestone(number, args[1], due=args[2], done=args[3])
            case "complete":
                worker.complete_milestone(number, on=args[1])
            case "edit_milestone":
                milestones = worker.measure(number).milestones
                if milestones:
                    which, title, due, note = args[1:]
                    worker.edit_milestone(
                        number,
                        milestones[which % len(milestones)].id,
                        title=title,
                        due=due,
                        clear_due=due is None,
                        note=note,
                    )
            case "delay":
                worker.log_delay(number, args[1])
            case "delete_milestone":
                milestones = worker.measure(number).milestones
                if milestones:
                    worker.delete_milestone(number, milestones[args[1] % len(milestones)].id)
            case "edit_delay":
                worker.edit_delay(number, cause=args[1], until=args[2], note=args[3])
            case "resolve":
                worker.resolve_delays(number, on=args[1], return_to=args[2])
            case "undo":
                worker.undo_last()
    except KoordinatorError:
        assert newest_event(worker) == before  # a refusal records nothing
        return
    after = newest_event(worker)
    if after is not None and after != before:
        replica.confirmed.add(after)
        if kind == "create":
            replica.created.add(after)


def newest_event(worker: Catalogue) -> str | None:
    newest = worker.history(limit=1)
    return newest[0].id if newest else None


# --- handing snapshots around ----------------------------------------------------------------

acting = st.tuples(st.just("act"), st.integers(0, 3), operations)
exchanging = st.tuples(
    st.just("exchange"),
    st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True),
    st.integers(0, 3),
)
waiting = st.tuples(st.just("wait"), st.integers(60, 3 * 24 * 3600))  # a minute to days
# Mostly changes, often exchanges (between them the replicas diverge), now and then a pause.
step = st.one_of(acting, acting, acting, exchanging, exchanging, waiting)


def export(replica: Replica, world: World, folder: Path, name: str) -> Path:
    """The replica's snapshot, written to a file as `koordinator export -o` writes it."""
    clock = world.clock(replica.skew)
    done = prepare_export(
        replica.database, author=replica.author, today=clock().date(), clock=clock
    )
    path = folder / name
    write_text(path, done.text)
    return path


def receive(replica: Replica, world: World, files: list[Path]) -> None:
    """`koordinator import FILES…` on the replica's machine (its clock judges the dates)."""
    import_snapshots(replica.database, files, clock=world.clock(replica.skew))


def event_ids(replica: Replica) -> set[str]:
    return {event.id for event in replica.catalogue.history()}


NEWS = ("Meilenstein", "Konflikt:")  # snapshot.check's findings that are no contradiction
HEADER = re.compile(r'(?m)^(exported_at|author|source) = ".*"\n')


def without_header(text: str) -> str:
    return HEADER.sub("", text, count=3)


@contextmanager
def replicas(
    folder: Path, start: Path, skews: list[timedelta], world: World
) -> Iterator[list[Replica]]:
    """Copies of `start`, each open for its own author on its own clock."""
    with ExitStack() as stack:
        made = []
        for index, skew in enumerate(skews):
            path = folder / f"replica-{index}.db"
            shutil.copyfile(start, path)
            database = stack.enter_context(opened(path))
            author = f"Koordinatorin {index}"
            worker = Catalogue(
                database, author=author, today=world.today(skew), clock=world.clock(skew)
            )
            made.append(Replica(path, author, skew, database, worker))
        yield made


skews = st.integers(-MAX_SKEW.total_seconds() // 1, MAX_SKEW.total_seconds() // 1).map(
    lambda seconds: timedelta(seconds=seconds)
)


@settings(
    # About half a minute on one core; a failure is a real one, so the runs stay random.
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    skews=st.lists(skews, min_size=3, max_size=4),
    steps=st.lists(step, min_size=20, max_size=60),
)
def test_any_exchange_of_snapshots_converges_and_loses_nothing(
    start_database: Path, skews: list[timedelta], steps: list[tuple[Any, ...]]
) -> None:
    converge(start_database, skews, steps)


def converge(start: Path, skews: list[timedelta], steps: list[tuple[Any, ...]]) -> Snapshot:
    """Run `steps` on replicas of `start` with clocks off by `skews`, exchange until all
    hold the same events, and check what must hold then (the module's docstring); the
    catalogue they agree on."""
    world = World()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with replicas(folder, start, skews, world) as everyone:
            for number, (kind, *args) in enumerate(steps):
                world.now += timedelta(seconds=1)
                match kind:
                    case "act":
                        act(everyone[args[0] % len(everyone)], args[1])
                    case "exchange":
                        sources, target = args
                        files = [
                            export(everyone[i % len(everyone)], world, folder, f"{number}-{i}.toml")
                            for i in sources
                        ]
                        receive(everyone[target % len(everyone)], world, files)
                    case "wait":
                        world.now += timedelta(seconds=args[0])
            synchronise(everyone, world, folder)
            check_converged(everyone, world, folder)
            agreed = snapshot_of(everyone[0].database, author=everyone[0].author)
        for replica in everyone:
            with closing(sqlite3.connect(replica.path)) as connection:
                assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return agreed


def synchronise(everyone: list[Replica], world: World, folder: Path) -> None:
    """Everyone imports everyone else's snapshot until all hold the same events.  One round
    of all files at once is enough, unless an import resolved a number clash: its
    renumbering is an event of its own, which the next round hands on (two replicas may
    resolve one clash each their way; the later resolution stands).  A round that finds
    nothing to do anywhere ends it, within a few rounds."""
    for round_ in range(ROUNDS):
        world.now += timedelta(minutes=1)
        files = [
            export(replica, world, folder, f"sync-{round_}-{index}.toml")
            for index, replica in enumerate(everyone)
        ]
        quiet = True
        for index, replica in enumerate(everyone):
            others = files[:index] + files[index + 1 :]
            result = import_snapshots(replica.database, others, clock=world.clock(replica.skew))
            quiet = quiet and result.nothing_to_do
        if quiet:
            break
    else:
        raise AssertionError(f"after {ROUNDS} rounds of exchanges still new events")
    held = [event_ids(replica) for replica in everyone]
    assert all(ids == held[0] for ids in held)


ROUNDS = 6


def check_converged(everyone: list[Replica], world: World, folder: Path) -> None:
    """What must hold once all replicas hold the same events (the module's docstring)."""
    exports = []
    for index, replica in enumerate(everyone):
        clock = world.clock(replica.skew)
        done = prepare_export(
            replica.database,
            author=replica.author,
            today=clock().date(),
            clock=clock,
            stale_months=0,
        )
        exports.append(without_header(done.text))
        # Its own checks find nothing but what is news to a coordinator (a milestone
        # overdue, an event a merge could not apply): no state that contradicts itself
        # or its history, ...
        assert [f for f in done.findings if not f.text.startswith(NEWS)] == []
        # ... and its own file reads back as valid (the reader replays every measure).
        own = folder / f"own-{index}.toml"
        write_text(own, done.text)
        load(own, now=clock())
    assert all(text == exports[0] for text in exports[1:])
    confirmed = set().union(*(replica.confirmed for replica in everyone))
    created = set().union(*(replica.created for replica in everyone))
    for replica in everyone:
        assert confirmed <= event_ids(replica)
        snapshot = snapshot_of(replica.database, author=replica.author)
        creations = {
            event.id
            for record in snapshot.measures
            for event in record.events
            if event.kind == EventKind.MEASURE_CREATED
        }
        assert created <= creations


# --- what the property found -----------------------------------------------------------------


def test_an_undo_after_merging_an_earlier_change_of_the_same_measure_still_travels(
    start_database: Path,
) -> None:
    """Replica 0 delays 2.1; replica 1, not having seen that, moves 2.1 on schedule and
    undoes the move.  Once replica 1 holds replica 0's delay (ordered before its move), its
    undo brings back "delayed", not the "planning" it recorded: its own snapshot used to be
    refused everywhere ("passt nicht zum rückgängig gemachten Ereignis")."""
    agreed = converge(
        start_database,
        [timedelta(0)] * 3,
        [
            ("act", 0, ("delay", 1, DelayInput())),
            ("act", 1, ("status", 1, Status.ON_SCHEDULE, "", "", DelayInput())),
            ("act", 1, ("undo",)),
        ],
    )
    (measure,) = [record.state for record in agreed.measures if record.state.number == "2.1"]
    assert measure.status == Status.DELAYED
    assert [delay.resolved_on for delay in measure.delays.values()] == [None]


def test_withdrawn_measures_and_the_one_that_took_their_number_export_in_one_order(
    start_database: Path,
) -> None:
    """Replica 1 adds 1.2 and withdraws it (the undo of its creation), four times, then
    adds 1.2 for good: five measures numbered 1.2, four withdrawn.  Their order in an export
    followed each database's row ids (creation order here, uid order where they were
    imported), so converged replicas differed in all but one of 120 cases."""
    take_back = [("act", 1, ("create", "Versuch", "", 1)), ("act", 1, ("undo",))]
    converge(
        start_database,
        [timedelta(0)] * 3,
        [*take_back * 4, ("act", 1, ("create", "Chatbot", "", 1)), ("exchange", [1], 0)],
    )


def test_a_merge_that_withdraws_a_measure_and_gives_its_number_to_another_is_written(
    start_database: Path,
) -> None:
    """Replica 1 adds 1.2, hands it on, withdraws it and adds another 1.2; replica 0, which
    holds the first 1.2, imports both changes at once.  The new row took the number before
    the old one gave it up: the import failed with "UNIQUE constraint failed"."""
    converge(
        start_database,
        [timedelta(0)] * 3,
        [
            ("act", 1, ("create", "Versuch", "", 1)),
            ("exchange", [1], 0),
            ("act", 1, ("undo",)),
            ("act", 1, ("create", "Chatbot", "", 1)),
            ("exchange", [1], 0),
        ],
    )


def test_an_undo_a_colleague_built_on_meanwhile_does_not_apply_in_the_merge(
    start_database: Path,
) -> None:
    """Replica 0 moves 2.1 to "delayed" and hands it on; replica 1 logs a second delay;
    replica 0, not having seen it, undoes its move.  Merged, the undo used to apply: 2.1
    was "In Planung" with replica 1's delay open.  Now it is a conflict, as the service
    refuses an undo someone built on: 2.1 stays delayed with both delays."""
    agreed = converge(
        start_database,
        [timedelta(0)] * 3,
        [
            ("act", 0, ("status", 1, Status.DELAYED, "", "", DelayInput())),
            ("exchange", [0], 1),
            ("act", 1, ("delay", 1, DelayInput(cause="Personal"))),
            ("act", 0, ("undo",)),
        ],
    )
    (measure,) = [record.state for record in agreed.measures if record.state.number == "2.1"]
    assert measure.status == Status.DELAYED
    assert [delay.resolved_on for delay in measure.delays.values()] == [None, None]


def test_an_undo_of_a_deletion_that_another_deletion_came_before_travels(
    start_database: Path,
) -> None:
    """Replicas 1 and 0 delete 1.1's milestone, neither having seen the other's; replica 0
    (its clock an hour ahead, so its deletion comes second) undoes its own.  Merged, its
    deletion did not apply, nor does its undo; replica 0's snapshot used to be refused
    everywhere ("passt nicht zum rückgängig gemachten Ereignis"): the reader checked what
    the undo restores against an order its author had not seen."""
    agreed = converge(
        start_database,
        [timedelta(hours=1), timedelta(0), timedelta(0)],
        [
            ("act", 1, ("delete_milestone", 0, 0)),
            ("act", 0, ("delete_milestone", 0, 0)),
            ("act", 0, ("undo",)),
            ("exchange", [1], 0),
        ],
    )
    (measure,) = [record.state for record in agreed.measures if record.state.number == "1.1"]
    assert measure.milestones == {}


def test_u_after_a_merge_made_ones_change_a_conflict_offers_no_undo_of_it(
    start_database: Path,
) -> None:
    """Replica 0 deletes 1.1's milestone; replica 1 (an hour ahead) marks it reached, then
    imports the deletion, which comes first: its "reached" did not apply.  Its undo used to
    crash the service ("LookupError: milestone … not found"); a change that did not take
    effect has nothing to take back, so `u` does not offer it."""
    converge(
        start_database,
        [timedelta(0), timedelta(hours=1), timedelta(0)],
        [
            ("act", 0, ("delete_milestone", 0, 0)),
            ("act", 1, ("complete", 0, None)),
            ("exchange", [0], 1),
            ("act", 1, ("undo",)),
        ],
    )
