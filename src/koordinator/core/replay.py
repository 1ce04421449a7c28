"""Replaying history events: the state of a measure is what its events say, in order.

History events are the unit of exchange between databases (see docs/snapshot-format.md).
This module is the engine behind three uses:

* a snapshot is trusted only if replaying its own events gives the state it claims;
* an import merges the events of several sources (union by event id) and re-derives the
  state of every measure that received new events, by replaying all of its events in
  (occurred_at, id) order; when two sources changed the same measure after their last
  common event, the later event wins (it is applied last) and the other stays in history;
* an export checks the database against its own history.

Replay applies each event's recorded effects literally (`details`), it does not re-run the
workflow: an event that is valid in itself stays valid whatever was merged before it.  An
operation on a row that no longer exists (a milestone deleted by an undo on one side and
completed on the other) is skipped and reported, never a crash.
"""

from __future__ import annotations

import copy
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from koordinator.core import history, records
from koordinator.core.dates import causal_timestamp, parse_timestamp
from koordinator.core.errors import SnapshotError
from koordinator.core.history import EventKind
from koordinator.core.numbers import MAX_SEQUENCE, SEQUENCE_LIMIT, number_key
from koordinator.core.records import Delay, Event, Measure, Milestone

# `Event.order` as a sort key without a Python call per event.
EVENT_ORDER = operator.attrgetter("occurred_at", "id")


@dataclass(frozen=True)
class Replayed:
    state: Measure
    skipped: tuple[str, ...] = ()  # German notes on operations whose row no longer exists
    # The order (`Event.order`) of the event that gave the measure its number: of two
    # measures with one number, the earlier claim keeps it (`plan_merge`).
    numbered: tuple[str, str] = ("", "")
    # The events that did not apply in the state they met, with why (German): conflicts.
    conflicts: Mapping[str, str] = field(default_factory=dict)


def state_before(events: Iterable[Event], event_id: str) -> Measure:
    """The measure as its history stands just before the event `event_id` (in replay
    order): what an undo of that event brings back.  Before its creation there is none;
    for the creation it is the measure as created (its undo, a withdrawal, needs nothing
    from before)."""
    ordered = sorted(events, key=EVENT_ORDER)
    position = next(index for index, event in enumerate(ordered) if event.id == event_id)
    return replay(ordered[: max(position, 1)]).state


def applied(events: Iterable[Event], event_id: str) -> bool:
    """Whether the event `event_id` took effect where replay meets it (not a conflict)."""
    ordered = sorted(events, key=EVENT_ORDER)
    position = next(index for index, event in enumerate(ordered) if event.id == event_id)
    return event_id not in replay(ordered[: position + 1]).conflicts


def creation(events: Sequence[Event]) -> Event | None:
    """The "measure_created" a measure's history starts with; None if it starts otherwise.

    The one home of the rule "a history starts with its measure_created": the replay, the
    export's checks and the snapshot reader ask it, each with `events` in replay order.
    A later, second "measure_created" is not this rule's: a file may carry none
    (snapshot_reader), and a replay skips one with a note.
    """
    if not events or events[0].kind != EventKind.MEASURE_CREATED:
        return None
    return events[0]


def replay(events: Iterable[Event]) -> Replayed:
    """The state a measure's events produce.  The first event must be its "measure_created"."""
    ordered = sorted(events, key=EVENT_ORDER)
    first = creation(ordered)
    if first is None:
        raise ValueError("a measure's history starts with measure_created")
    state = records.from_payload(
        Measure,
        first.details["measure"],
        revision=1,
        updated_at=ordered[0].occurred_at,
        uid=first.id,
    )
    numbered = first.order
    skipped: list[str] = []
    # The events an undo names: the state before each is kept, its inverse comes from it.
    undone = {
        event.details.get("undone_event_id")
        for event in ordered
        if event.kind == EventKind.CHANGE_UNDONE
    }
    past = history.Past({first.id: first}, {}, {}, {})
    if first.id in undone:
        past.states[first.id] = copy.deepcopy(state)
    for event in ordered[1:]:
        if event.id in undone:
            past.states[event.id] = copy.deepcopy(state)
        # Every event raises the revision by one and stamps the measure (Catalogue._record),
        # one that cannot apply too: it is in the history.
        state.revision += 1
        state.updated_at = max(state.updated_at, event.occurred_at)
        number = state.number
        reason = history.apply(state, event, skipped, past)
        if reason:
            past.conflicts[event.id] = reason
        if state.number != number:
            numbered = event.order
        past.events[event.id] = event
    if state.withdrawn:
        _keep_if_others_changed_it(state, ordered, past.conflicts)
    return Replayed(state, tuple(skipped), numbered, past.conflicts)


def _keep_if_others_changed_it(
    state: Measure, ordered: Sequence[Event], conflicts: dict[str, str]
) -> None:
    """A withdrawal (the undo of the creation) stands only while nobody else has changed
    the measure, before or after it in the merged history: a colleague's change must not
    disappear with it.  Otherwise the measure stays and the withdrawal is a conflict."""
    created = ordered[0]
    withdrawal = next(
        e
        for e in reversed(ordered)
        if e.kind == EventKind.CHANGE_UNDONE
        and e.details.get("undone_event_id") == created.id
        and e.id not in conflicts
    )
    other = next(
        (e for e in ordered if e.author != withdrawal.author and e.id not in conflicts), None
    )
    if other is not None:
        state.withdrawn = False
        conflicts[withdrawal.id] = (
            f"{other.author} hat die Maßnahme auch geändert – sie bleibt im Katalog"
        )


@dataclass(frozen=True)
class Difference:
    """Where a stored or claimed state departs from what its history produces."""

    key: str  # a measure field, or "milestones" / "delays"
    row_id: str | None = None  # the milestone or delay concerned
    field: str | None = None  # its field; None with a row id: the row is on one side only
    stored: Any = None
    derived: Any = None

    def __str__(self) -> str:
        what = {"milestones": "Meilenstein", "delays": "Verzögerung"}.get(self.key, self.key)
        if self.row_id is None or self.field is not None:
            name = f"{what} {self.row_id}, {self.field}" if self.row_id else what
            return f"{name}: „{plain(self.stored)}“, laut Verlauf „{plain(self.derived)}“"
        if self.derived is None:
            return f"{what} {self.row_id} kommt im Verlauf nicht vor"
        return f"{what} {self.row_id} fehlt, obwohl der Verlauf ihn anlegt"


# A row's values besides its id, as snapshots hold them and `differences` compares them.
_MILESTONE_VALUES = records.snapshot_names(Milestone)[1:]
_DELAY_VALUES = records.snapshot_names(Delay)[1:]


def differences(stored: Measure, derived: Measure) -> Iterator[Difference]:
    """How `stored` differs from `derived` (the replay of its history); created_at aside."""
    for name in records.snapshot_names(Measure):
        if getattr(stored, name) != getattr(derived, name):
            key = records.file_key(Measure, name)
            yield Difference(key, stored=getattr(stored, name), derived=getattr(derived, name))
    for key, names in (("milestones", _MILESTONE_VALUES), ("delays", _DELAY_VALUES)):
        stored_rows, derived_rows = getattr(stored, key), getattr(derived, key)
        for row_id in [*stored_rows, *(i for i in derived_rows if i not in stored_rows)]:
            row, expected = stored_rows.get(row_id), derived_rows.get(row_id)
            if row is None or expected is None:
                yield Difference(key, row_id, stored=row, derived=expected)
                continue
            for name in names:
                if getattr(row, name) != getattr(expected, name):
                    yield Difference(key, row_id, name, getattr(row, name), getattr(expected, name))


def plain(value: Any) -> str:
    """A value as a message shows it: TOML's true/false, nothing for none."""
    match value:
        case None:
            return ""
        case bool():
            return "true" if value else "false"
        case dict():
            return ", ".join(f"{key} = {plain(item)}" for key, item in value.items())
    return str(value)


# --- merging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Events from one place: this database or one snapshot file, by measure (its uid)."""

    label: str  # German, for messages: "diese Datenbank", "a.toml"
    events: Mapping[str, Sequence[Event]]
    # `replay` of some measures' `events`, done already (the snapshot reader's check): a
    # merge that replays exactly these events takes it instead of replaying them again.
    replayed: Mapping[str, Replayed] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    """Two sources changed the same measure after their last common event."""

    number: str
    sides: tuple[tuple[str, tuple[Event, ...]], tuple[str, tuple[Event, ...]]]
    winner: Event  # the latest of those changes: replayed last, so its effect stands


@dataclass(frozen=True)
class MeasureMerge:
    measure: str  # the measure's uid
    new_events: tuple[Event, ...]  # in replay order
    before: Measure | None  # None: the measure is new here
    after: Measure
    conflicts: tuple[Conflict, ...] = ()
    skipped: tuple[str, ...] = ()
    # The measure's events (new or not) that do not apply in the state they meet: event ->
    # why (`Replayed.conflicts`), in replay order.
    not_applied: tuple[tuple[Event, str], ...] = ()
    # The renumbering this merge records itself (its number was another measure's), also
    # among new_events, and the title of the measure that kept the number; None, "" if
    # there was no clash.
    renumbered: Event | None = None
    kept_by: str = ""

    @property
    def number(self) -> str:
        return self.after.number


@dataclass(frozen=True)
class MergePlan:
    measures: tuple[MeasureMerge, ...]

    @property
    def new_event_count(self) -> int:
        return sum(len(merge.new_events) for merge in self.measures)


@dataclass(frozen=True)
class Renumbering:
    """Who records the renumberings a merge's number clashes need, and when."""

    author: str
    clock: datetime
    make_id: Callable[[], str] = history.new_event_id


def plan_merge(
    local: Source,
    incoming: Sequence[Source],
    *,
    numbers: Mapping[str, str] | None = None,
    renumbering: Renumbering | None = None,
) -> MergePlan:
    """What importing `incoming` into `local` would do; raises SnapshotError if impossible.

    Measures are matched by uid.  `numbers` are the local measures' numbers by uid (those
    not withdrawn; replayed from `local` when not given).  Where the merge leaves two
    measures with one number, the measure whose claim on it is older keeps it and the other
    gets the next free number of its field, by a `measure_renumbered` event of
    `renumbering` (or of the importing side's clock, one microsecond after every event).
    """
    known: dict[str, tuple[Event, str]] = {}
    for source in (local, *incoming):
        for events in source.events.values():
            for event in events:
                _check_same(known, event, source.label)
    local_ids = {event.id for events in local.events.values() for event in events}
    new_by_measure: dict[str, dict[str, Event]] = defaultdict(dict)
    for source in incoming:
        for uid, events in source.events.items():
            for event in events:
                if event.id not in local_ids:
                    new_by_measure[uid][event.id] = event
    merges: dict[str, MeasureMerge] = {}
    claims: dict[str, tuple[str, str]] = {}
    for uid, by_id in new_by_measure.items():
        new_events = tuple(sorted(by_id.values(), key=EVENT_ORDER))
        local_events = local.events.get(uid, ())
        before = replay(local_events).state if local_events else None
        replayed = None if local_events else _replayed_by(uid, len(by_id), incoming)
        if replayed is None:
            replayed = replay([*local_events, *new_events])
        claims[uid] = replayed.numbered
        merges[uid] = MeasureMerge(
            measure=uid,
            new_events=new_events,
            before=before,
            after=replayed.state,
            conflicts=_conflicts(uid, replayed.state.number, (local, *incoming)),
            skipped=replayed.skipped,
            not_applied=_not_applied([*local_events, *new_events], replayed),
        )
    if merges:
        _resolve_clashes(local, incoming, merges, claims, numbers, renumbering, known)
    ordered = sorted(merges.values(), key=lambda merge: (number_key(merge.number), merge.measure))
    return MergePlan(tuple(ordered))


def _replayed_by(uid: str, count: int, incoming: Sequence[Source]) -> Replayed | None:
    """A source's own replay of a measure this database does not hold, if that source has
    all `count` of the merged events (it has no others; equal ids are equal events, see
    `_check_same`)."""
    for source in incoming:
        known = source.replayed.get(uid)
        if known is not None and len(source.events[uid]) == count:
            return known
    return None


def _resolve_clashes(
    local: Source,
    incoming: Sequence[Source],
    merges: dict[str, MeasureMerge],
    claims: dict[str, tuple[str, str]],
    numbers: Mapping[str, str] | None,
    renumbering: Renumbering | None,
    known: Mapping[str, tuple[Event, str]],
) -> None:
    """Give every measure that shares its number with an older claim the next free number
    of its field (a `measure_renumbered` event added to its merge)."""
    if numbers is None:
        numbers = {
            uid: state.number
            for uid, events in local.events.items()
            if not (state := replay(events).state).withdrawn
        }
    current = dict(numbers)
    for uid, merge in merges.items():
        current.pop(uid, None)
        if not merge.after.withdrawn:
            current[uid] = merge.after.number
    holders: dict[str, list[str]] = defaultdict(list)
    for uid, number in current.items():
        holders[number].append(uid)
    clashes = sorted((n for n, uids in holders.items() if len(uids) > 1), key=number_key)
    if not clashes:
        return
    taken: dict[int, set[int]] = defaultdict(set)
    for number in current.values():
        code, _, position = number.partition(".")
        taken[int(code)].add(int(position))
    latest = max(event.occurred_at for event, _ in known.values())
    wall = renumbering.clock if renumbering else parse_timestamp(latest)
    author = renumbering.author if renumbering else "koordinator"
    make_id = renumbering.make_id if renumbering else history.new_event_id
    stamp = causal_timestamp(wall, latest)

    def claim(uid: str) -> tuple[str, str]:
        if uid not in claims:
            claims[uid] = replay(local.events[uid]).numbered
        return claims[uid]

    for number in clashes:
        keeper, *others = sorted(holders[number], key=lambda uid: (claim(uid), uid))
        kept_by = merges[keeper].after if keeper in merges else replay(local.events[keeper]).state
        for uid in others:
            field_code = int(number.partition(".")[0])
            sequence = _free_sequence(field_code, taken[field_code], number)
            taken[field_code].add(sequence)
            event = Event(
                id=make_id(),
                number=number,
                kind=EventKind.MEASURE_RENUMBERED.value,
                occurred_at=stamp,
                author=author,
                note=f"Nummer {number} war doppelt vergeben – sie bleibt bei „{kept_by.title}“",
                from_status=None,
                to_status=None,
                details={"previous": number, "number": f"{field_code}.{sequence}"},
                measure=uid,
            )
            earlier = merges.get(uid)
            local_events = local.events.get(uid, ())
            new_events = (*(earlier.new_events if earlier else ()), event)
            replayed = replay([*local_events, *new_events])
            merges[uid] = MeasureMerge(
                measure=uid,
                new_events=new_events,
                before=earlier.before if earlier else replay(local_events).state,
                after=replayed.state,
                conflicts=earlier.conflicts if earlier else (),
                skipped=replayed.skipped,
                not_applied=_not_applied([*local_events, *new_events], replayed),
                renumbered=event,
                kept_by=kept_by.title,
            )


def _not_applied(events: Iterable[Event], replayed: Replayed) -> tuple[tuple[Event, str], ...]:
    if not replayed.conflicts:
        return ()
    ordered = sorted(events, key=EVENT_ORDER)
    return tuple((e, replayed.conflicts[e.id]) for e in ordered if e.id in replayed.conflicts)


def _free_sequence(field_code: int, taken: set[int], number: str) -> int:
    """The next sequence of the field after its last; the first gap once that is full."""
    after_last = max(taken, default=0) + 1
    if after_last <= MAX_SEQUENCE:
        return after_last
    gap = next((s for s in range(1, MAX_SEQUENCE + 1) if s not in taken), None)
    if gap is None:
        raise SnapshotError(
            f"Maßnahme {number} ist doppelt vergeben, und Handlungsfeld {field_code} hat keine "
            f"freie Nummer mehr ({SEQUENCE_LIMIT}) – Import abgebrochen, nichts geändert"
        )
    return gap


def _check_same(known: dict[str, tuple[Event, str]], event: Event, label: str) -> None:
    """One id, one event: the same id with other content means a damaged or forged file."""
    seen = known.setdefault(event.id, (event, label))
    if seen[0] != event:
        # A copy this version cannot read (its summary raises ROW_ERRORS) is the damaged
        # one, and said so: a file is read completely before, so it is the database's.
        for copy in (seen[0], event):
            history.describe(copy.kind, copy.from_status, copy.to_status, copy.details)
        where = event.where or label
        other = seen[0].where or seen[1]
        raise SnapshotError(
            f"{where}: Ereignis {event.id} (Maßnahme {event.number}) hat dieselbe Id wie ein "
            f"Ereignis mit anderem Inhalt ({other}) – Import abgebrochen, nichts geändert"
        )


def _conflicts(uid: str, number: str, sources: Sequence[Source]) -> tuple[Conflict, ...]:
    having = [
        (source.label, {event.id: event for event in source.events[uid]})
        for source in sources
        if source.events.get(uid)
    ]
    found = []
    for index, (label_a, events_a) in enumerate(having):
        for label_b, events_b in having[index + 1 :]:
            common = events_a.keys() & events_b.keys()
            last = max((events_a[i].order for i in common), default=("", ""))
            tail_a = _tail(events_a, events_b, last)
            tail_b = _tail(events_b, events_a, last)
            if tail_a and tail_b:
                winner = max((*tail_a, *tail_b), key=EVENT_ORDER)
                found.append(Conflict(number, ((label_a, tail_a), (label_b, tail_b)), winner))
    return tuple(found)


def _tail(
    mine: Mapping[str, Event], theirs: Mapping[str, Event], after: tuple[str, str]
) -> tuple[Event, ...]:
    return tuple(
        sorted(
            (e for i, e in mine.items() if i not in theirs and e.order > after),
            key=EVENT_ORDER,
        )
    )


def creation_order(events: Iterable[Event]) -> dict[str, int]:
    """Row id -> position of the event that created the row (independent of insertion):
    a measure's milestones and delays are listed in this order, the snapshot's."""
    order: dict[str, int] = {}
    for position, event in enumerate(sorted(events, key=EVENT_ORDER)):
        details = event.details
        for key in ("milestone", "delay"):
            payload = details.get(key)
            if payload.__class__ is dict and "id" in payload:
                order.setdefault(payload["id"], position)
    return order


RowT = TypeVar("RowT", bound=Milestone | Delay)


def in_order(rows: list[RowT], order: Mapping[str, int]) -> dict[str, RowT]:
    """Rows by id in `creation_order`, a row no event created last (then by id)."""
    ranked = sorted(rows, key=lambda row: (order.get(row.id, len(order)), row.id))
    return {row.id: row for row in ranked}
