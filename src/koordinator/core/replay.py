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

import dataclasses
import json
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from koordinator.core import history
from koordinator.core.errors import SnapshotError
from koordinator.core.history import EventKind
from koordinator.core.numbers import number_key
from koordinator.core.store.models import MEASURE_COLUMNS, Delay, HistoryEvent, Measure, Milestone
from koordinator.core.workflow import check_status_codes

# The fields each kind of row has besides its id; the order is the order of the snapshot.
MEASURE_EDITABLE = ("title", "unit", "note")
MEASURE_RESTORABLE = (*MEASURE_EDITABLE, "status")
MILESTONE_FIELDS = ("title", "due", "done", "done_on", "note")
DELAY_FIELDS = ("cause", "since", "until", "resolved_on", "note")


@dataclass(frozen=True)
class Event:
    """One history event, independent of any database (its measure is named by number)."""

    id: str
    number: str
    kind: str
    occurred_at: str
    author: str
    note: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]
    # Where the event was read ("a.toml:120"); for messages only, not part of its identity.
    where: str = field(default="", compare=False)

    @property
    def order(self) -> tuple[str, str]:
        """Replay order: by time, ties broken by id so that every database agrees."""
        return (self.occurred_at, self.id)

    @property
    def summary(self) -> str:
        return history.describe(self.kind, self.from_status, self.to_status, self.details)


# `Event.order` as a sort key without a Python call per event.
EVENT_ORDER = operator.attrgetter("occurred_at", "id")


@dataclass
class MilestoneState:
    id: str
    title: str
    due: str | None
    done: bool
    done_on: str | None
    note: str
    # The time of the event that created it; kept in the database, not in snapshots.
    created_at: str = field(default="", compare=False)


@dataclass
class DelayState:
    id: str
    cause: str
    since: str
    until: str | None
    resolved_on: str | None
    note: str
    created_at: str = field(default="", compare=False)


@dataclass
class MeasureState:
    number: str
    field: int
    title: str
    unit: str
    origin: str
    origin_date: str
    status: str
    note: str
    revision: int
    updated_at: str
    # In creation order (the order the events created them), which is the snapshot's order.
    # (dataclasses.field: `field` in this class body is the field of action above.)
    milestones: dict[str, MilestoneState] = dataclasses.field(default_factory=dict)
    delays: dict[str, DelayState] = dataclasses.field(default_factory=dict)

    @property
    def sequence(self) -> int:
        return int(self.number.partition(".")[2])


RowT = TypeVar("RowT", bound=MilestoneState | DelayState)


@dataclass(frozen=True)
class Replayed:
    state: MeasureState
    skipped: tuple[str, ...] = ()  # German notes on operations whose row no longer exists


def replay(events: Iterable[Event]) -> Replayed:
    """The state a measure's events produce.  The first event must be its "measure_created"."""
    ordered = sorted(events, key=EVENT_ORDER)
    if not ordered or ordered[0].kind != EventKind.MEASURE_CREATED:
        raise ValueError("a measure's history starts with measure_created")
    created = ordered[0].details["measure"]
    state = MeasureState(
        number=created["number"],
        field=created["field"],
        title=created["title"],
        unit=created["unit"],
        origin=created["origin"],
        origin_date=created["origin_date"],
        status=created["status"],
        note=created["note"],
        revision=1,
        updated_at=ordered[0].occurred_at,
    )
    skipped: list[str] = []
    for event in ordered[1:]:
        # Every change raises the revision by one and stamps the measure (Catalogue._record).
        state.revision += 1
        state.updated_at = max(state.updated_at, event.occurred_at)
        _apply(state, event, skipped)
    return Replayed(state, tuple(skipped))


def _apply(state: MeasureState, event: Event, skipped: list[str]) -> None:
    details = event.details
    match event.kind:
        case EventKind.MEASURE_CREATED:
            skipped.append(f"Maßnahme {state.number}: zweites „angelegt“ ({event.id}) übergangen")
        case EventKind.MEASURE_EDITED:
            for name, (_old, new) in details["changes"].items():
                setattr(state, name, new)
        case EventKind.STATUS_CHANGED | EventKind.DELAY_LOGGED | EventKind.DELAY_RESOLVED:
            if "delay" in details:
                _add_delay(state, details["delay"], event.occurred_at)
            for delay_id in details.get("resolved_delays", []):
                delay = _row(state.delays, delay_id, event, "Verzögerung", skipped)
                if delay is not None:
                    delay.resolved_on = details["resolved_on"]
            if event.kind == EventKind.STATUS_CHANGED and event.to_status:
                state.status = event.to_status
        case EventKind.MILESTONE_ADDED:
            payload = details["milestone"]
            state.milestones[payload["id"]] = MilestoneState(
                id=payload["id"],
                title=payload["title"],
                due=payload["due"],
                done=payload["done"],
                done_on=payload["done_on"],
                note=payload["note"],
                created_at=event.occurred_at,
            )
        case EventKind.MILESTONE_COMPLETED:
            milestone = _row(
                state.milestones, details["milestone_id"], event, "Meilenstein", skipped
            )
            if milestone is not None:
                milestone.done = True
                milestone.done_on = details["done_on"]
        case EventKind.MILESTONE_EDITED:
            milestone = _row(
                state.milestones, details["milestone_id"], event, "Meilenstein", skipped
            )
            if milestone is not None:
                for name, (_old, new) in details["changes"].items():
                    setattr(milestone, name, new)
        case EventKind.CHANGE_UNDONE:
            _restore(state, event, skipped)


def _restore(state: MeasureState, event: Event, skipped: list[str]) -> None:
    """An undo carries the resulting state operations; apply them as written."""
    restore = event.details.get("restore", {})
    for name, value in restore.get("measure", {}).items():
        setattr(state, name, value)
    targets: tuple[tuple[Mapping[str, MilestoneState | DelayState], str, str], ...] = (
        (state.milestones, "milestones", "Meilenstein"),
        (state.delays, "delays", "Verzögerung"),
    )
    for rows, key, what in targets:
        for row_id, values in restore.get(key, {}).items():
            row = _row(rows, row_id, event, what, skipped)
            for name, value in values.items() if row is not None else ():
                setattr(row, name, value)
    for row_id in restore.get("delete_milestones", []):
        if _row(state.milestones, row_id, event, "Meilenstein", skipped) is not None:
            del state.milestones[row_id]
    for row_id in restore.get("delete_delays", []):
        if _row(state.delays, row_id, event, "Verzögerung", skipped) is not None:
            del state.delays[row_id]
    if event.to_status:
        state.status = event.to_status


def _add_delay(state: MeasureState, payload: Mapping[str, Any], occurred_at: str) -> None:
    state.delays[payload["id"]] = DelayState(
        id=payload["id"],
        cause=payload["cause"],
        since=payload["since"],
        until=payload["until"],
        resolved_on=None,
        note=payload["note"],
        created_at=occurred_at,
    )


def _row(
    rows: Mapping[str, RowT], row_id: str, event: Event, what: str, skipped: list[str]
) -> RowT | None:
    row = rows.get(row_id)
    if row is None:
        skipped.append(
            f"Maßnahme {event.number}: „{event.summary}“ ({event.author}) übergangen – "
            f"{what} {row_id} gibt es nicht mehr"
        )
    return row


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


def differences(stored: MeasureState, derived: MeasureState) -> Iterator[Difference]:
    """How `stored` differs from `derived` (the replay of its history); created_at aside."""
    for name in ("field", *MEASURE_RESTORABLE, "origin", "origin_date", "revision", "updated_at"):
        if getattr(stored, name) != getattr(derived, name):
            yield Difference(name, stored=getattr(stored, name), derived=getattr(derived, name))
    for key, names in (("milestones", MILESTONE_FIELDS), ("delays", DELAY_FIELDS)):
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
    """Events from one place: this database or one snapshot file, grouped by measure number."""

    label: str  # German, for messages: "diese Datenbank", "a.toml"
    events: Mapping[str, Sequence[Event]]


@dataclass(frozen=True)
class Conflict:
    """Two sources changed the same measure after their last common event."""

    number: str
    sides: tuple[tuple[str, tuple[Event, ...]], tuple[str, tuple[Event, ...]]]
    winner: Event  # the latest of those changes: replayed last, so its effect stands


@dataclass(frozen=True)
class MeasureMerge:
    number: str
    new_events: tuple[Event, ...]  # in replay order
    before: MeasureState | None  # None: the measure is new here
    after: MeasureState
    conflicts: tuple[Conflict, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class MergePlan:
    measures: tuple[MeasureMerge, ...]

    @property
    def new_event_count(self) -> int:
        return sum(len(merge.new_events) for merge in self.measures)


def plan_merge(local: Source, incoming: Sequence[Source]) -> MergePlan:
    """What importing `incoming` into `local` would do; raises SnapshotError if impossible."""
    known: dict[str, tuple[Event, str]] = {}
    for source in (local, *incoming):
        for events in source.events.values():
            for event in events:
                _check_same(known, event, source.label)
    _check_one_creation((local, *incoming))
    local_ids = {event.id for events in local.events.values() for event in events}
    new_by_number: dict[str, dict[str, Event]] = defaultdict(dict)
    for source in incoming:
        for number, events in source.events.items():
            for event in events:
                if event.id not in local_ids:
                    new_by_number[number][event.id] = event
    merges = []
    for number in sorted(new_by_number, key=number_key):
        new_events = sorted(new_by_number[number].values(), key=EVENT_ORDER)
        before = replay(local.events[number]).state if local.events.get(number) else None
        replayed = replay([*local.events.get(number, ()), *new_events])
        merges.append(
            MeasureMerge(
                number=number,
                new_events=tuple(new_events),
                before=before,
                after=replayed.state,
                conflicts=_conflicts(number, (local, *incoming)),
                skipped=replayed.skipped,
            )
        )
    return MergePlan(tuple(merges))


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


def _check_one_creation(sources: Sequence[Source]) -> None:
    """Measures are matched by number; two measures created independently share no history."""
    created: dict[str, tuple[Event, str]] = {}
    for source in sources:
        for number, events in source.events.items():
            for event in events:
                if event.kind != EventKind.MEASURE_CREATED:
                    continue
                first = created.setdefault(number, (event, source.label))
                if first[0].id != event.id:
                    raise SnapshotError(
                        f"{event.where or source.label}: Maßnahme {number} wurde zweimal "
                        f"unabhängig angelegt – „{first[0].details['measure']['title']}“ "
                        f"({first[0].where or first[1]}) und „{event.details['measure']['title']}“ "
                        "(hier) – Import abgebrochen, nichts geändert"
                    )


def _conflicts(number: str, sources: Sequence[Source]) -> tuple[Conflict, ...]:
    having = [
        (source.label, {event.id: event for event in source.events[number]})
        for source in sources
        if source.events.get(number)
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


# --- the database side ------------------------------------------------------------------------


def load_events(session: Session) -> dict[str, list[Event]]:
    """Every history event of the database, by measure number, in replay order."""
    # A 10,000-measure history has 100,000 events: they are read as plain rows on the
    # connection (no ORM loading), in table order (sorting in Python is cheaper than SQLite
    # walking the time index and looking up each row), and their JSON details are decoded
    # in one call instead of 100,000.
    # The rows come straight from the driver's cursor (the statement compiled by
    # SQLAlchemy, run in the session's transaction): plain tuples, cheaper to make, sort and
    # index than 100,000 result rows.
    connection = session.connection()
    # Every measure's status too: an export, a diff and an import (which writes over it)
    # must not take a code this version does not know for a state (ValueError).
    measures = connection.execute(select(Measure.id, Measure.number, Measure.status)).all()
    check_status_codes({status for _, _, status in measures})
    numbers = {measure_id: number for measure_id, number, _ in measures}
    statement = select(
        HistoryEvent.id,
        HistoryEvent.measure_id,
        HistoryEvent.kind,
        HistoryEvent.occurred_at,
        HistoryEvent.author,
        HistoryEvent.note,
        HistoryEvent.from_status,
        HistoryEvent.to_status,
        type_coerce(HistoryEvent.details, Text),
    ).compile(dialect=connection.dialect)
    assert not statement.params  # nothing to bind: the text alone is the query
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        rows = cursor.execute(str(statement)).fetchall()
    finally:
        cursor.close()
    rows.sort(key=operator.itemgetter(3, 0))  # (occurred_at, id): Event.order
    unknown_kinds = {row[2] for row in rows} - _KINDS
    if unknown_kinds:
        raise ValueError(f"unbekannte Art eines Ereignisses {min(unknown_kinds)!r}")
    check_status_codes(({row[6] for row in rows} | {row[7] for row in rows}) - {None})
    events: dict[str, list[Event]] = defaultdict(list)
    for row, details in zip(rows, _decode_details([row[8] for row in rows]), strict=True):
        number = numbers[row[1]]
        events[number].append(
            Event(row[0], number, row[2], row[3], row[4], row[5], row[6], row[7], details)
        )
    return dict(events)


def _decode_details(texts: list[str | None]) -> list[dict[str, Any]]:
    """The stored JSON texts as dicts (models.JSONText's reading), all in one json.loads."""
    try:
        decoded = json.loads("[" + ",".join(text or "{}" for text in texts) + "]")
    except ValueError:
        decoded = None
    if (
        decoded is None
        or len(decoded) != len(texts)
        or any(details.__class__ is not dict for details in decoded)
    ):
        # A text is broken (or no JSON object): one by one, so that it alone fails.
        return [history.decode_details(text) for text in texts]
    return decoded  # type: ignore[no-any-return]


_KINDS = frozenset(kind.value for kind in EventKind)


def load_states(session: Session, events: Mapping[str, Sequence[Event]]) -> dict[str, MeasureState]:
    """Every measure as the database holds it; rows in the order their events created them."""
    connection = session.connection()  # plain rows, as in load_events
    states: dict[int, MeasureState] = {}
    for measure_id, *values in connection.execute(
        select(*MEASURE_COLUMNS).order_by(Measure.field_code, Measure.sequence)
    ).all():
        states[measure_id] = MeasureState(*values)
    milestones: dict[int, list[MilestoneState]] = defaultdict(list)
    columns = [getattr(Milestone, name) for name in ("id", *MILESTONE_FIELDS, "created_at")]
    for measure_id, *values in connection.execute(
        select(Milestone.measure_id, *columns).order_by(Milestone.id)
    ).all():
        milestones[measure_id].append(MilestoneState(*values))
    delays: dict[int, list[DelayState]] = defaultdict(list)
    columns = [getattr(Delay, name) for name in ("id", *DELAY_FIELDS, "created_at")]
    for measure_id, *values in connection.execute(
        select(Delay.measure_id, *columns).order_by(Delay.id)
    ).all():
        delays[measure_id].append(DelayState(*values))
    for measure_id, state in states.items():
        order = _creation_order(events.get(state.number, ()))
        state.milestones = _in_order(milestones[measure_id], order)
        state.delays = _in_order(delays[measure_id], order)
    return {state.number: state for state in states.values()}


def _creation_order(events: Iterable[Event]) -> dict[str, int]:
    """Row id -> position of the event that created the row (independent of insertion)."""
    order: dict[str, int] = {}
    for position, event in enumerate(sorted(events, key=EVENT_ORDER)):
        details = event.details
        for key in ("milestone", "delay"):
            payload = details.get(key)
            if payload.__class__ is dict and "id" in payload:
                order.setdefault(payload["id"], position)
    return order


def _in_order(rows: list[RowT], order: Mapping[str, int]) -> dict[str, RowT]:
    ranked = sorted(rows, key=lambda row: (order.get(row.id, len(order)), row.id))
    return {row.id: row for row in ranked}


MEASURE_WRITTEN = (*MEASURE_RESTORABLE, "origin", "origin_date", "revision", "updated_at")


def apply_plan(session: Session, plan: MergePlan) -> None:
    """Write a merge: new events, and the replayed state of every measure they touch.

    In bulk (one statement per table and kind of change, not one per row): the rows to
    write are worked out first, in plan order, exactly as a row-by-row write would meet
    them, so that the same plan gives the same rows, ids and errors.
    """
    if not plan.measures:
        return
    measure_ids = dict(session.execute(select(Measure.number, Measure.id)).all())
    new_measures = [
        {
            "number": merge.after.number,
            "field_code": merge.after.field,
            "sequence": merge.after.sequence,
            **{name: getattr(merge.after, name) for name in MEASURE_WRITTEN},
        }
        for merge in plan.measures
        if merge.after.number not in measure_ids
    ]
    changed_measures = [
        {"measure_id": measure_ids[merge.after.number]}
        | {name: getattr(merge.after, name) for name in MEASURE_WRITTEN}
        for merge in plan.measures
        if merge.after.number in measure_ids
    ]
    if new_measures:
        # In plan order, as one row at a time would have given them their ids.
        session.execute(insert(Measure.__table__), new_measures)
        numbers = [row["number"] for row in new_measures]
        measure_ids.update(
            session.execute(
                select(Measure.number, Measure.id).where(Measure.number.in_(numbers))
            ).all()
        )
    if changed_measures:
        table = Measure.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("measure_id")), changed_measures
        )
    rows = {
        Milestone: _RowSync(session, Milestone, MILESTONE_FIELDS, "Meilenstein"),
        Delay: _RowSync(session, Delay, DELAY_FIELDS, "Verzögerung"),
    }
    targets = [(merge.after, measure_ids[merge.after.number]) for merge in plan.measures]
    for sync in rows.values():
        sync.read(targets)
    for state, measure_id in targets:  # in plan order, so that the first problem is reported
        rows[Milestone].plan(state, measure_id, state.milestones)
        rows[Delay].plan(state, measure_id, state.delays)
    for sync in rows.values():
        sync.write()
    events = [
        {
            "id": event.id,
            "measure_id": measure_id,
            "kind": event.kind,
            "occurred_at": event.occurred_at,
            "author": event.author,
            "note": event.note,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "details": event.details,
        }
        for merge, (_, measure_id) in zip(plan.measures, targets, strict=True)
        for event in merge.new_events
    ]
    if events:
        events.sort(key=operator.itemgetter("id"))  # the primary key's order: appends, mostly
        with _indexes_rebuilt_if_large(session, HistoryEvent.__table__, len(events)):
            _insert(session, HistoryEvent.__table__, events)


# From this many new rows on, and more than the table holds, a table's secondary indexes are
# dropped before the insert and built again after it: building an index from all rows at
# once (SQLite sorts them) is several times faster than 100,000 inserts into it one by one.
BULK_INDEX_REBUILD = 5_000


@contextmanager
def _indexes_rebuilt_if_large(session: Session, table: Table, new_rows: int) -> Iterator[None]:
    connection = session.connection()
    large = (
        new_rows >= BULK_INDEX_REBUILD
        and new_rows > connection.execute(select(func.count()).select_from(table)).scalar_one()
    )
    indexes = sorted(table.indexes, key=lambda index: index.name or "") if large else []
    for index in indexes:  # inside the write transaction: a failure rolls the drop back too
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


class _RowSync:
    """The milestones (or delays) of merged measures brought to their replayed states: rows
    added, changed, and deleted (by an undo in the merged history)."""

    def __init__(
        self,
        session: Session,
        model: type[Milestone] | type[Delay],
        names: Sequence[str],
        what: str,
    ) -> None:
        self.session, self.table, self.names, self.what = session, model.__table__, names, what
        self.owner: dict[str, int] = {}  # row id -> measure id, as the database will hold it
        self.of_measure: dict[int, list[str]] = defaultdict(list)  # as it holds them now
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.deletes: list[str] = []

    def read(self, targets: Sequence[tuple[MeasureState, int]]) -> None:
        """Who owns the rows of these measures, and the rows their states name."""
        column = self.table.c
        for chunk in _chunks(sorted({measure_id for _, measure_id in targets})):
            query = select(column.id, column.measure_id).where(column.measure_id.in_(chunk))
            for row_id, measure_id in self.session.execute(query):
                self.owner[row_id] = measure_id
                self.of_measure[measure_id].append(row_id)
        named = {row_id for state, _ in targets for row_id in self._rows(state)}
        for chunk in _chunks(sorted(named - self.owner.keys())):
            query = select(column.id, column.measure_id).where(column.id.in_(chunk))
            self.owner.update(self.session.execute(query).all())

    def _rows(self, state: MeasureState) -> Mapping[str, MilestoneState | DelayState]:
        return state.milestones if self.table.name == "milestone" else state.delays

    def plan(
        self,
        state: MeasureState,
        measure_id: int,
        wanted: Mapping[str, MilestoneState] | Mapping[str, DelayState],
    ) -> None:
        existing = {
            row_id for row_id in self.of_measure.pop(measure_id, ()) if row_id in self.owner
        }
        for row_id, row in wanted.items():
            values = {name: getattr(row, name) for name in self.names}
            if row_id in existing:
                existing.discard(row_id)
                self.updates.append({"row_id": row_id, **values})
            elif row_id not in self.owner:
                self.owner[row_id] = measure_id
                self.inserts.append(
                    {"id": row_id, "measure_id": measure_id, "created_at": row.created_at} | values
                )
            else:
                raise SnapshotError(
                    f"Maßnahme {state.number}: {self.what} {row_id} gehört hier schon zu einer "
                    "anderen Maßnahme – Import abgebrochen, nichts geändert"
                )
        for row_id in existing:
            del self.owner[row_id]
            self.deletes.append(row_id)

    def write(self) -> None:
        column = self.table.c
        for chunk in _chunks(self.deletes):
            self.session.execute(delete(self.table).where(column.id.in_(chunk)))
        if self.updates:
            self.session.execute(
                update(self.table).where(column.id == bindparam("row_id")), self.updates
            )
        if self.inserts:
            _insert(self.session, self.table, self.inserts)


def _insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows (all with the same keys) straight through the driver: SQLAlchemy's
    per-row parameter handling costs more than SQLite's insert.  Each value goes through its
    column type's bind processor (the details' JSON), as `insert(table)` would do it."""
    columns = list(rows[0])
    connection = session.connection()
    processors = [table.c[name].type.bind_processor(connection.dialect) for name in columns]
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    values = list(map(operator.itemgetter(*columns), rows))  # tuples, in C
    if len(columns) == 1:
        values = [(value,) for value in values]
    if any(processors):
        by_column = list(zip(*values, strict=True))
        for index, process in enumerate(processors):
            if process is not None:
                by_column[index] = tuple(map(process, by_column[index]))
        values = list(zip(*by_column, strict=True))
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Slices small enough for an IN (...) list (SQLite limits bound parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
