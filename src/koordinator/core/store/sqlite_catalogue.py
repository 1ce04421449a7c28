"""The catalogue as a whole in the SQLite store: every history event, every measure's stored
state, and writing a merge (`koordinator.core.replay` plans it, on plain `Event`s and
`records.Measure`s; export, import and their checks read and write through here).

A 10,000-measure catalogue has 100,000 events: they are read and written in bulk, as plain
tuples straight through the driver where SQLAlchemy's per-row handling would cost more than
SQLite's work.
"""

from __future__ import annotations

import json
import operator
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Table,
    Text,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from koordinator.core import history, records
from koordinator.core.errors import SnapshotError
from koordinator.core.history import EventKind
from koordinator.core.records import Event
from koordinator.core.replay import MergePlan, creation_order, in_order
from koordinator.core.store.models import (
    MEASURE_COLUMNS,
    Delay,
    FieldOfAction,
    HistoryEvent,
    Measure,
    Milestone,
    measure_record,
)
from koordinator.core.workflow import check_status_codes


def load_events(session: Session) -> dict[str, list[Event]]:
    """Every history event of the database, by measure (its `uid`), in replay order."""
    # A 10,000-measure history has 100,000 events: they are read as plain rows on the
    # connection (no ORM loading), in table order (sorting in Python is cheaper than SQLite
    # walking the time index and looking up each row), and their JSON details are decoded
    # in one call instead of 100,000.
    connection = session.connection()
    # Every measure's status too: an export, a diff and an import (which writes over it)
    # must not take a code this version does not know for a state (ValueError).
    measures = connection.execute(
        select(Measure.id, Measure.uid, Measure.number, Measure.status)
    ).all()
    check_status_codes({status for *_, status in measures})
    names = {measure_id: (uid, number) for measure_id, uid, number, _ in measures}
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
    )
    # (occurred_at, id): Event.order
    # All rows in one fetch (iterating the result fetches them one by one).
    rows = sorted(connection.execute(statement).all(), key=operator.itemgetter(3, 0))
    unknown_kinds = set(map(operator.itemgetter(2), rows)) - _KINDS
    if unknown_kinds:
        raise ValueError(f"unbekannte Art eines Ereignisses {min(unknown_kinds)!r}")
    codes = set(map(operator.itemgetter(6), rows)) | set(map(operator.itemgetter(7), rows))
    check_status_codes(codes - {None})
    events: dict[str, list[Event]] = defaultdict(list)
    for row, details in zip(rows, _decode_details([row[8] for row in rows]), strict=True):
        uid, number = names[row[1]]
        events[uid].append(
            Event(row[0], number, row[2], row[3], row[4], row[5], row[6], row[7], details, uid)
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


def load_states(
    session: Session, events: Mapping[str, Sequence[Event]]
) -> dict[str, records.Measure]:
    """Every measure as the database holds it, by uid; rows in the order their events
    created them."""
    connection = session.connection()  # plain rows, as in load_events
    states: dict[int, records.Measure] = {}
    for row in connection.execute(
        # A withdrawn measure may share its number with a later one: uid settles the order.
        select(*MEASURE_COLUMNS).order_by(Measure.field_code, Measure.sequence, Measure.uid)
    ).all():
        state = measure_record(row)
        states[state.key] = state
    milestones: dict[int, list[records.Milestone]] = defaultdict(list)
    columns = [getattr(Milestone, name) for name in records.columns(records.Milestone)]
    for measure_id, *values in connection.execute(
        select(Milestone.measure_id, *columns).order_by(Milestone.id)
    ).all():
        milestones[measure_id].append(records.Milestone(*values))
    delays: dict[int, list[records.Delay]] = defaultdict(list)
    columns = [getattr(Delay, name) for name in records.columns(records.Delay)]
    for measure_id, *values in connection.execute(
        select(Delay.measure_id, *columns).order_by(Delay.id)
    ).all():
        delays[measure_id].append(records.Delay(*values))
    for measure_id, state in states.items():
        order = creation_order(events.get(state.uid, ()))
        state.milestones = in_order(milestones[measure_id], order)
        state.delays = in_order(delays[measure_id], order)
    return {state.uid: state for state in states.values()}


# What a merge writes of a measure's row (its number with its field and sequence).
MEASURE_WRITTEN = tuple(
    name for name in records.columns(records.Measure) if name not in ("field_code", "key")
)
# A sequence no number reaches: where a renumbered measure waits while the others move.
_ASIDE = 10_000_000


def _row(state: records.Measure) -> dict[str, Any]:
    return {
        "field_code": state.field_code,
        "sequence": state.sequence,
        **{name: getattr(state, name) for name in MEASURE_WRITTEN},
    }


def apply_plan(session: Session, plan: MergePlan) -> None:
    """Write a merge: new events, and the replayed state of every measure they touch.

    In bulk (one statement per table and kind of change, not one per row): the rows to
    write are worked out first, in plan order, exactly as a row-by-row write would meet
    them, so that the same plan gives the same rows, ids and errors.
    """
    if not plan.measures:
        return
    table = Measure.__table__
    measure_ids = dict(session.execute(select(Measure.uid, Measure.id)).all())
    new_measures = [
        _row(merge.after) for merge in plan.measures if merge.measure not in measure_ids
    ]
    changed_measures = [
        {"measure_id": measure_ids[merge.measure]} | _row(merge.after)
        for merge in plan.measures
        if merge.measure in measure_ids
    ]
    moved = [
        {"measure_id": measure_ids[merge.measure]}
        for merge in plan.measures
        if merge.measure in measure_ids
        and merge.before
        and (merge.before.number, merge.before.withdrawn)
        != (merge.after.number, merge.after.withdrawn)
    ]
    if moved:
        # Numbers may pass between measures (a renumbering, a clash resolved, a withdrawal
        # freeing one): the rows that give theirs up or take another step aside first, so
        # that no two rows hold one number in between.
        session.execute(
            update(table)
            .where(table.c.id == bindparam("measure_id"))
            .values(
                sequence=table.c.id + _ASIDE,
                number=cast(table.c.field_code, Text)
                .concat(".")
                .concat(cast(table.c.id + _ASIDE, Text)),
            ),
            moved,
        )
    if new_measures:
        # In plan order, as one row at a time would have given them their ids.
        session.execute(insert(table), new_measures)
        uids = [row["uid"] for row in new_measures]
        measure_ids.update(
            session.execute(select(Measure.uid, Measure.id).where(Measure.uid.in_(uids))).all()
        )
    if changed_measures:
        session.execute(
            update(table).where(table.c.id == bindparam("measure_id")), changed_measures
        )
    rows = {
        Milestone: _RowSync(session, Milestone, _values(records.Milestone), "Meilenstein"),
        Delay: _RowSync(session, Delay, _values(records.Delay), "Verzögerung"),
    }
    targets = [(merge.after, measure_ids[merge.measure]) for merge in plan.measures]
    for sync in rows.values():
        sync.read(targets)
    for state, measure_id in targets:  # in plan order, so that the first problem is reported
        rows[Milestone].plan(state, measure_id, state.milestones)
        rows[Delay].plan(state, measure_id, state.delays)
    for sync in rows.values():
        sync.write()
    conflicts = {event.id: reason for merge in plan.measures for event, reason in merge.not_applied}
    _mark_conflicts(session, [measure_id for _, measure_id in targets], conflicts)
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
            "conflict": conflicts.get(event.id),
        }
        for merge, (_, measure_id) in zip(plan.measures, targets, strict=True)
        for event in merge.new_events
    ]
    if events:
        events.sort(key=operator.itemgetter("id"))  # the primary key's order: appends, mostly
        with _indexes_rebuilt_if_large(session, HistoryEvent.__table__, len(events)):
            _insert(session, HistoryEvent.__table__, events)


def _mark_conflicts(
    session: Session, measure_ids: Sequence[int], conflicts: Mapping[str, str]
) -> None:
    """The merged measures' stored events as the replay found them: a conflict marked
    where it did not apply them (an event that arrived may have changed that for earlier
    ones), none where it did.  The new events get theirs as they are written."""
    table = HistoryEvent.__table__
    for chunk in _chunks(measure_ids):
        session.execute(
            update(table)
            .where(table.c.measure_id.in_(chunk), table.c.conflict.is_not(None))
            .values(conflict=None)
        )
    if conflicts:
        session.execute(
            update(table).where(table.c.id == bindparam("event_id")),
            [{"event_id": event_id, "conflict": reason} for event_id, reason in conflicts.items()],
        )


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


def _values(record_type: type) -> tuple[str, ...]:
    """A milestone's or delay's values besides its id, as a merge writes them."""
    return records.snapshot_names(record_type)[1:]


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

    def read(self, targets: Sequence[tuple[records.Measure, int]]) -> None:
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

    def _rows(self, state: records.Measure) -> Mapping[str, records.Milestone | records.Delay]:
        return state.milestones if self.table.name == "milestone" else state.delays

    def plan(
        self,
        state: records.Measure,
        measure_id: int,
        wanted: Mapping[str, records.Milestone] | Mapping[str, records.Delay],
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
    # Column by column (in C but for a processor), zipped into rows once.
    by_column = [
        map(process, map(operator.itemgetter(name), rows))
        if process is not None
        else map(operator.itemgetter(name), rows)
        for name, process in zip(columns, processors, strict=True)
    ]
    values = list(zip(*by_column, strict=True))
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Slices small enough for an IN (...) list (SQLite limits bound parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class SqliteCatalogue:
    """`interface.CatalogueMerge` on one session of the SQLite store (its transaction)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def field_names(self) -> dict[int, str]:
        query = select(FieldOfAction.code, FieldOfAction.name).order_by(FieldOfAction.code)
        return dict(self._session.execute(query).all())

    def events(self) -> dict[str, list[Event]]:
        return load_events(self._session)

    def numbers(self) -> dict[str, str]:
        statement = select(Measure.uid, Measure.number).where(Measure.withdrawn == false())
        return dict(self._session.execute(statement).all())

    def states(self, events: Mapping[str, Sequence[Event]]) -> dict[str, records.Measure]:
        return load_states(self._session, events)

    def add_fields(self, names: Mapping[int, str]) -> None:
        self._session.add_all(FieldOfAction(code=code, name=name) for code, name in names.items())
        self._session.flush()

    def apply_merge(self, plan: MergePlan) -> None:
        apply_plan(self._session, plan)
