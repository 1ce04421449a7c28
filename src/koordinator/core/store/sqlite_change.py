"""The service's changes in the SQLite store (`interface.Change`): the statements one user
action runs, on the connection of its one transaction.

Plain statements on the tables, not the ORM's unit of work: the first status change of a
session is the one users feel.  Through the ORM it loaded the measure as an entity and
flushed a unit of work whose statements are compiled on a process's first flush.  The
statements every status and delay action runs (the reads those of the details pane) are
built once here: a statement object remembers its cache key, so executing it again skips
building the expression and hashing it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, delete, false, func, insert, select, update

from koordinator.core import records
from koordinator.core.records import Event
from koordinator.core.store.fast_reads import MilestoneRow, event_view, views_with_figures
from koordinator.core.store.models import (
    MEASURE_COLUMNS,
    MEASURE_NAMES,
    Delay,
    FieldOfAction,
    HistoryEvent,
    Measure,
    Milestone,
    measure_record,
)
from koordinator.core.views import MeasureView

_MEASURE_TABLE = Measure.__table__
_DELAY_TABLE = Delay.__table__
_EVENT_TABLE = HistoryEvent.__table__
_MILESTONE_TABLE = Milestone.__table__

# A withdrawn measure's number is free again: the number names the measure that is not.
_MEASURE_BY_NUMBER = select(*MEASURE_COLUMNS).where(
    Measure.number == bindparam("number"), Measure.withdrawn == false()
)
_MEASURE_BY_UID = select(*MEASURE_COLUMNS).where(Measure.uid == bindparam("uid"))
_DELAY_COLUMNS = tuple(getattr(Delay, name) for name in records.columns(records.Delay))
_DELAYS_OF_MEASURE = (
    select(*_DELAY_COLUMNS)
    .where(Delay.measure_id == bindparam("measure_id"))
    .order_by(Delay.since, Delay.id)
)
# The writes of the status and delay actions, on the tables rather than the mapped classes:
# ORM-enabled DML compiles through the ORM's plugin, which made the first execution of
# these three in a process slower.
_INSERT_EVENT = insert(_EVENT_TABLE)
_INSERT_DELAY = insert(_DELAY_TABLE)
_UPDATE_MEASURE_STATE = (
    update(_MEASURE_TABLE)
    .where(_MEASURE_TABLE.c.id == bindparam("measure_id"))
    .values(
        status=bindparam("new_status"),
        revision=bindparam("new_revision"),
        updated_at=bindparam("new_updated_at"),
    )
)
_RESOLVE_OPEN_DELAYS = (
    update(_DELAY_TABLE)
    .where(
        _DELAY_TABLE.c.measure_id == bindparam("of_measure"), _DELAY_TABLE.c.resolved_on.is_(None)
    )
    .values(resolved_on=bindparam("on"))
)
_MEASURE_ROW = [name for name in MEASURE_NAMES if name != "key"]
_MILESTONE_COLUMNS = tuple(getattr(Milestone, name) for name in records.columns(records.Milestone))


def warm_up(connection: Connection) -> None:
    """Compile the reads every status and delay change starts with."""
    connection.execute(_MEASURE_BY_NUMBER, {"number": ""}).first()
    connection.execute(_DELAYS_OF_MEASURE, {"measure_id": 0}).all()


class SqliteChange:
    """`interface.Change` on the connection of one transaction of the SQLite store."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # --- interface.ChangeRead ----------------------------------------------------------------

    def measure(self, number: str) -> records.Measure | None:
        row = self._connection.execute(_MEASURE_BY_NUMBER, {"number": number}).first()
        return None if row is None else measure_record(row)

    def measure_by_uid(self, uid: str) -> records.Measure | None:
        row = self._connection.execute(_MEASURE_BY_UID, {"uid": uid}).first()
        return None if row is None else measure_record(row)

    def check_history_readable(self, measure: records.Measure) -> None:
        # As the details pane reads them (each event's view), in this transaction.
        for event in self.events_newest_first(measure_id=measure.key):
            event_view(event, measure.number)

    def latest_event_time(self) -> str | None:
        return self._connection.scalar(select(func.max(HistoryEvent.occurred_at)))

    def latest_author(self, measure_id: int) -> str | None:
        return self._connection.scalar(
            select(HistoryEvent.author)
            .where(HistoryEvent.measure_id == measure_id)
            .order_by(HistoryEvent.occurred_at.desc(), HistoryEvent.id.desc())
            .limit(1)
        )

    def conflicts(self, measure_id: int | None = None) -> dict[str, str]:
        query = select(HistoryEvent.id, HistoryEvent.conflict).where(
            HistoryEvent.conflict.is_not(None)
        )
        if measure_id is not None:
            query = query.where(HistoryEvent.measure_id == measure_id)
        return {event_id: reason or "" for event_id, reason in self._connection.execute(query)}

    def events_newest_first(
        self, *, measure_id: int | None = None, author: str | None = None, limit: int | None = None
    ) -> Iterator[Event]:
        query = (
            select(
                HistoryEvent.id,
                Measure.number,
                HistoryEvent.kind,
                HistoryEvent.occurred_at,
                HistoryEvent.author,
                HistoryEvent.note,
                HistoryEvent.from_status,
                HistoryEvent.to_status,
                HistoryEvent.details,
                Measure.uid,
            )
            .join(Measure, Measure.id == HistoryEvent.measure_id)
            .order_by(HistoryEvent.occurred_at.desc(), HistoryEvent.id.desc())
        )
        if measure_id is not None:
            query = query.where(HistoryEvent.measure_id == measure_id)
        if author is not None:
            query = query.where(HistoryEvent.author == author)
        if limit is not None:
            query = query.limit(limit)
        for row in self._connection.execute(query):
            yield Event(*row)

    # --- interface.Change --------------------------------------------------------------------

    def field_codes(self) -> list[int]:
        return list(self._connection.scalars(select(FieldOfAction.code)))

    def last_sequence(self, field_code: int) -> int | None:
        return self._connection.scalar(
            select(func.max(Measure.sequence)).where(
                Measure.field_code == field_code, Measure.withdrawn == false()
            )
        )

    def add_measure(self, measure: records.Measure, *, sequence: int) -> records.Measure:
        values = {name: getattr(measure, name) for name in _MEASURE_ROW} | {"sequence": sequence}
        result = self._connection.execute(insert(_MEASURE_TABLE), values)
        (measure_id,) = result.inserted_primary_key or (0,)
        return dataclasses.replace(measure, key=measure_id)

    def edit_measure(self, measure_id: int, texts: Mapping[str, str]) -> None:
        self._connection.execute(
            update(_MEASURE_TABLE).where(_MEASURE_TABLE.c.id == measure_id).values(**texts)
        )

    def set_number(self, measure_id: int, number: str) -> None:
        self._update(_MEASURE_TABLE, measure_id, _number_columns(number))

    def save_state(self, measure_id: int, *, status: str, revision: int, updated_at: str) -> None:
        self._connection.execute(
            _UPDATE_MEASURE_STATE,
            {
                "measure_id": measure_id,
                "new_status": status,
                "new_revision": revision,
                "new_updated_at": updated_at,
            },
        )

    def add_event(self, values: Mapping[str, Any]) -> None:
        self._connection.execute(_INSERT_EVENT, values)

    def add_delay(self, delay: Mapping[str, Any]) -> None:
        self._connection.execute(_INSERT_DELAY, delay)

    def open_delay_ids(self, measure_id: int) -> list[str]:
        # Read with the details' statement (compiled already, and the few resolved delays
        # cost nothing).
        delays = self._connection.execute(_DELAYS_OF_MEASURE, {"measure_id": measure_id})
        return sorted(delay.id for delay in delays if delay.resolved_on is None)

    def resolve_open_delays(self, measure_id: int, on: str) -> None:
        # All of them: the write transaction holds the lock, so they are the ones just read.
        self._connection.execute(_RESOLVE_OPEN_DELAYS, {"of_measure": measure_id, "on": on})

    def milestones(self, measure_id: int) -> list[records.Milestone]:
        query = select(*_MILESTONE_COLUMNS).where(Milestone.measure_id == measure_id)
        return [records.Milestone(*row) for row in self._connection.execute(query)]

    def milestone(self, measure_id: int, milestone_id: str) -> records.Milestone | None:
        row = self._connection.execute(
            select(*_MILESTONE_COLUMNS).where(
                Milestone.id == milestone_id, Milestone.measure_id == measure_id
            )
        ).first()
        return None if row is None else records.Milestone(*row)

    def add_milestone(self, measure_id: int, milestone: records.Milestone) -> None:
        self._connection.execute(
            insert(_MILESTONE_TABLE), {"measure_id": measure_id, **vars(milestone)}
        )

    def update_milestone(self, milestone_id: str, values: Mapping[str, Any]) -> None:
        self._update(_MILESTONE_TABLE, milestone_id, values)

    def delete_milestone(self, milestone_id: str) -> None:
        self._delete(_MILESTONE_TABLE, milestone_id)

    def delays(self, measure_id: int) -> list[records.Delay]:
        rows = self._connection.execute(_DELAYS_OF_MEASURE, {"measure_id": measure_id})
        return [records.Delay(*row) for row in rows]

    def update_delay(self, delay_id: str, values: Mapping[str, Any]) -> None:
        self._update(_DELAY_TABLE, delay_id, values)

    def author_of_newer_change(self, measure_id: int, *, after: str, other_than: str) -> str | None:
        return self._connection.scalar(
            select(HistoryEvent.author)
            .where(
                HistoryEvent.measure_id == measure_id,
                HistoryEvent.occurred_at > after,
                HistoryEvent.author != other_than,
            )
            .order_by(HistoryEvent.occurred_at.desc())
            .limit(1)
        )

    def restore(self, measure_id: int, restore: Mapping[str, Any], *, now: str) -> None:
        for milestone_id, values in restore.get("add_milestones", {}).items():
            self._connection.execute(
                insert(_MILESTONE_TABLE),
                {"id": milestone_id, "measure_id": measure_id, "created_at": now, **values},
            )
        if restore.get("measure"):
            values = dict(restore["measure"])
            if "number" in values:
                values |= _number_columns(values["number"])
            self._update(_MEASURE_TABLE, measure_id, values)
        for milestone_id, values in restore.get("milestones", {}).items():
            self._update(_MILESTONE_TABLE, milestone_id, values)
        for delay_id, values in restore.get("delays", {}).items():
            self._update(_DELAY_TABLE, delay_id, values)
        for milestone_id in restore.get("delete_milestones", []):
            self._delete(_MILESTONE_TABLE, milestone_id)
        for delay_id in restore.get("delete_delays", []):
            self._delete(_DELAY_TABLE, delay_id)

    def measure_views(
        self, measures: Sequence[records.Measure], *, today: date
    ) -> list[MeasureView]:
        # By the list's code, from this transaction's rows (after its changes).
        keys = [measure.key for measure in measures]
        open_milestones = self._connection.execute(
            select(*(getattr(Milestone, name) for name in MilestoneRow._fields)).where(
                Milestone.measure_id.in_(keys), Milestone.done.is_(False)
            )
        )
        open_delays = self._connection.execute(
            select(Delay.measure_id, func.count())
            .where(Delay.measure_id.in_(keys), Delay.resolved_on.is_(None))
            .group_by(Delay.measure_id)
        )
        return views_with_figures(
            measures,
            map(MilestoneRow._make, open_milestones),
            dict(open_delays.all()),
            today,
        )

    # --- internals ---------------------------------------------------------------------------

    def _update(self, table: Any, row_id: object, values: Mapping[str, Any]) -> None:
        """One row's columns; the row must exist (an undo's rows are its events')."""
        result = self._connection.execute(
            update(table).where(table.c.id == row_id).values(**values)
        )
        if result.rowcount != 1:
            raise LookupError(f"{table.name} {row_id} not found")

    def _delete(self, table: Any, row_id: object) -> None:
        result = self._connection.execute(delete(table).where(table.c.id == row_id))
        if result.rowcount != 1:
            raise LookupError(f"{table.name} {row_id} not found")


def _number_columns(number: str) -> dict[str, Any]:
    """A number's columns: the number, its field and its sequence."""
    field_code, _, sequence = number.partition(".")
    return {"number": number, "field_code": int(field_code), "sequence": int(sequence)}
