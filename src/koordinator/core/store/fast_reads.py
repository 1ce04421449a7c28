"""The catalogue's hot reads in plain SQL on `sqlite3`: fields of action with their counts,
lists of measures, one measure's details.

The one read path for what the screen shows: `Catalogue.fields`, `list_measures` and
`measure` delegate here, and the terminal UI paints its first screen with these very
functions before SQLAlchemy is imported (`koordinator.core.lazy_catalogue`); SQLAlchemy,
the models and the write side load after that paint.  Standard library only, by design
(tests/test_import_hygiene.py checks it).

The functions take a `sqlite3.Connection`: `Reads` gives each thread its own (the UI reads
the whole list in a worker while the cursor's details are read on the UI thread), and the
write side passes the connection of its own transaction to build the views it returns.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from typing import Any, cast

from koordinator.core import history, records
from koordinator.core.dates import from_iso
from koordinator.core.errors import NotFoundError
from koordinator.core.history import EventKind
from koordinator.core.numbers import parse_number
from koordinator.core.store import sqlite_file
from koordinator.core.store.interface import ReportRows
from koordinator.core.store.sqlite_file import CheckedDatabase
from koordinator.core.views import (
    DelayView,
    EventView,
    FieldView,
    MeasureDetail,
    MeasureView,
    MilestoneView,
    is_overdue,
    matches_search,
    search_key,
)
from koordinator.core.workflow import FINAL_STATUSES, Status

# Rows with named columns, as the view builders below read them (like the records the
# write side hands them): the records' values as snapshots hold them (and a milestone's
# measure); a measure's row has the record's fields, its id as `key`.  Typed Any, as the
# fields are computed.
_new_row_type = cast(Any, namedtuple)
MeasureRow: Any = _new_row_type("MeasureRow", records.columns(records.Measure))
MilestoneRow: Any = _new_row_type(
    "MilestoneRow", ("measure_id", *records.snapshot_names(records.Milestone))
)
DelayRow: Any = _new_row_type("DelayRow", records.snapshot_names(records.Delay))
_MILESTONE_VIEW_FIELDS = tuple(name for name in MilestoneRow._fields[1:] if name != "done")
_DELAY_VIEW_FIELDS = DelayRow._fields
EventRow = namedtuple(
    "EventRow", "id kind occurred_at author note from_status to_status details conflict"
)


def _select(row_type: Any, table: str) -> str:
    columns = ", ".join("id" if name == "key" else name for name in row_type._fields)
    return f"SELECT {columns} FROM {table}"


_MEASURES = _select(MeasureRow, "measure")
_OPEN_MILESTONES = _select(MilestoneRow, "milestone") + " WHERE done = 0"
_OPEN_DELAY_COUNTS = "SELECT measure_id, count(*) FROM delay WHERE resolved_on IS NULL"
_OPEN_DELAY_CAUSES = "SELECT measure_id, cause FROM delay WHERE resolved_on IS NULL"
# A withdrawn measure is in no list, count or report, and its number is free again.
_MEASURE_BY_NUMBER = f"{_MEASURES} WHERE number = ? AND withdrawn = 0"
_MILESTONES_OF_MEASURE = _select(MilestoneRow, "milestone") + " WHERE measure_id = ?"
_DELAYS_OF_MEASURE = _select(DelayRow, "delay") + " WHERE measure_id = ? ORDER BY since, id"
_EVENTS_OF_MEASURE = (
    "SELECT id, kind, occurred_at, author, note, from_status, to_status, details, conflict"
    " FROM history_event WHERE measure_id = ? ORDER BY occurred_at DESC, id DESC"
)
# What the council report reads (`Reads.report_rows`), as SQL text on sqlite3 like the
# screen's reads: `koordinator report` imports no SQLAlchemy, and no ORM statements are
# compiled; the figures are checked against a plain ORM computation in tests/test_report.py.
_REPORT_FIELDS = "SELECT code, name FROM field_of_action ORDER BY code"
_NOT_WITHDRAWN = "measure_id IN (SELECT id FROM measure WHERE withdrawn = 0)"
# A plain scan, sorted in Python: faster than walking the (field, sequence) index and looking
# up each row.
_REPORT_MEASURES = (
    "SELECT id, number, field_code, sequence, title, status, unit, origin FROM measure"
    " WHERE withdrawn = 0"
)
# Only the milestones the report lists, in one scan: the open ones (next milestone, due soon,
# overdue) and those done in the period; most milestones of a large catalogue are long done.
# For the period a superset, narrowed exactly in Python: a loose date whose period touches
# the report's has a year >= the start's year (first parameter) and, as ISO text ("2020" <
# "2020-01-01"), sorts at or before the report's day (second).  In table (rowid) order, as a
# plain scan gives them: ties in the report's sorts keep that order.
_REPORT_MILESTONES = (
    "SELECT measure_id, title, due, done, done_on FROM milestone"
    " WHERE (done = 0 OR (done = 1 AND done_on >= ? AND done_on <= ?))"
    f" AND {_NOT_WITHDRAWN} ORDER BY rowid"
)
_REPORT_OPEN_DELAYS = (
    "SELECT measure_id, cause, since, until, note FROM delay"
    f" WHERE resolved_on IS NULL AND {_NOT_WITHDRAWN} ORDER BY since, created_at, id"
)
# The moves into the final status each handed-over or dropped measure is in now, found
# through the status index and each measure's history index (not the whole history).
_REPORT_FINAL_MOVES = (
    "SELECT e.measure_id, e.details FROM measure AS m"
    " JOIN history_event AS e ON e.measure_id = m.id"
    " WHERE m.status IN (?, ?) AND m.withdrawn = 0 AND e.kind = ? AND e.to_status = m.status"
    " ORDER BY e.occurred_at, e.id"
)
_FINAL_STATUS_VALUES = tuple(sorted(status.value for status in FINAL_STATUSES))
# Below SQLite's limit of bound variables; above it a query reads all rows and filters.
IN_LIST_LIMIT = 900


class Reads:
    """The hot reads of one database file, on one `sqlite3` connection per thread.

    Each statement group runs in one read transaction (BEGIN … ROLLBACK), so a list and its
    milestone and delay figures, or a measure and its history, come from the same state;
    sqlite3's errors become the same German messages as the SQLAlchemy side's.
    """

    def __init__(self, checked: CheckedDatabase) -> None:
        self.checked = checked
        self.target = checked.target
        self.read_only = checked.read_only
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []

    def fields(self) -> list[FieldView]:
        with self.reading() as connection:
            return read_fields(connection)

    def list_measures(
        self,
        *,
        today: date,
        field_code: int | None = None,
        status: Status | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[MeasureView]:
        with self.reading() as connection:
            return read_measures(
                connection, today, field_code=field_code, status=status, text=text, limit=limit
            )

    def measure(self, number: str, *, today: date) -> MeasureDetail:
        with self.reading() as connection:
            return read_measure(connection, number, today)

    def report_rows(self, *, period_start: date, today: date) -> ReportRows:
        with self.reading() as connection:
            return ReportRows(
                fields=connection.execute(_REPORT_FIELDS).fetchall(),
                measures=connection.execute(_REPORT_MEASURES).fetchall(),
                milestones=connection.execute(
                    _REPORT_MILESTONES, (f"{period_start.year:04d}", today.isoformat())
                ).fetchall(),
                open_delays=connection.execute(_REPORT_OPEN_DELAYS).fetchall(),
                final_moves=[
                    (measure_id, history.decode_details(details))
                    for measure_id, details in connection.execute(
                        _REPORT_FINAL_MOVES, (*_FINAL_STATUS_VALUES, EventKind.STATUS_CHANGED.value)
                    )
                ],
            )

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version` on this thread's connection: it changes whenever
        another connection has committed -- another process, or this process's write side
        -- and costs no read of the file's pages."""
        with sqlite_file.translated_row_errors(self.target):
            return int(self._connection().execute("PRAGMA data_version").fetchone()[0])

    def damaged_rows(self) -> AbstractContextManager[None]:
        return sqlite_file.translated_row_errors(self.target)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
            # A thread that reads again after this gets a new connection.
            self._local = threading.local()
        for connection in connections:
            connection.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection inside one read transaction (also for the report's
        statements: every figure from one state)."""
        with sqlite_file.translated_row_errors(self.target):
            connection = self._connection()
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        connection: sqlite3.Connection | None = getattr(local, "connection", None)
        if connection is None:
            # One thread at a time: the first connection may switch the file to WAL mode,
            # which fails at once, not after waiting, while another one switches too.
            with self._lock:
                connection = sqlite_file.connect(self.checked)
                self._connections.append(connection)
            local.connection = connection
        return connection


class ScreenReads:
    """`fields`, `list_measures` and `measure` as the CLI and the UI ask for them: on
    `self.reads`, as of `self._today()`.  Shared by the `Catalogue` and the UI's start-up
    `LazyCatalogue`, so that both answer the same way."""

    reads: Reads
    _today: Callable[[], date]

    def fields(self) -> list[FieldView]:
        return self.reads.fields()

    def list_measures(
        self,
        *,
        field_code: int | None = None,
        status: Status | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[MeasureView]:
        """Measures in number order, optionally filtered by field, status and a search text.

        `limit` gives only the first ones (the UI paints them before it reads the rest).
        """
        return self.reads.list_measures(
            today=self._today(), field_code=field_code, status=status, text=text, limit=limit
        )

    def measure(self, number: str) -> MeasureDetail:
        """One measure with its milestones, delays and history (newest first)."""
        return self.reads.measure(number, today=self._today())

    def data_version(self) -> int:
        """A number that changes when someone has written to the database since the last
        call on this thread (`Reads.data_version`): the UI polls it to show others' changes."""
        return self.reads.data_version()


def read_fields(connection: sqlite3.Connection) -> list[FieldView]:
    counts = dict(
        connection.execute(
            "SELECT field_code, count(*) FROM measure WHERE withdrawn = 0 GROUP BY field_code"
        )
    )
    return [
        FieldView(code, name, counts.get(code, 0))
        for code, name in connection.execute("SELECT code, name FROM field_of_action ORDER BY code")
    ]


def read_measures(
    connection: sqlite3.Connection,
    today: date,
    *,
    field_code: int | None = None,
    status: Status | None = None,
    text: str | None = None,
    limit: int | None = None,
) -> list[MeasureView]:
    """Measures in number order, optionally filtered by field, status and a search text;
    `limit` gives only the first ones (the UI paints them before it reads the rest)."""
    wanted = search_key(text)
    conditions = ["withdrawn = 0"]
    parameters: list[Any] = []
    if field_code is not None:
        conditions.append("field_code = ?")
        parameters.append(field_code)
    if status is not None:
        conditions.append("status = ?")
        parameters.append(status.value)
    query = _MEASURES + " WHERE " + " AND ".join(conditions)
    query += " ORDER BY field_code, sequence"
    if limit is not None and not wanted:
        query += " LIMIT ?"
        parameters.append(limit)
    measures = list(map(MeasureRow._make, connection.execute(query, parameters)))
    if wanted:
        # Filtered in Python (`matches_search`: casefolded, and on the texts as shown).
        causes: dict[int, list[str]] = {}
        for measure_id, cause in connection.execute(_OPEN_DELAY_CAUSES):
            causes.setdefault(measure_id, []).append(cause)
        measures = [
            m
            for m in measures
            if matches_search(
                wanted,
                texts=(m.number, m.title, m.unit, m.note),
                status=Status(m.status),
                open_causes=causes.get(m.key, ()),
            )
        ][:limit]
    return measure_views(connection, measures, today)


def measure_views(
    connection: sqlite3.Connection, measures: Iterable[Any], today: date
) -> list[MeasureView]:
    """Views of measures (rows or ORM objects with the measure's columns), with each one's
    next open milestone and number of open delays.

    One query for all open milestones and one for all open delays: listing 10,000 measures
    must stay well under the time of one screen refresh.
    """
    measures = list(measures)
    ids = {measure.key for measure in measures}
    milestones_query = _OPEN_MILESTONES
    delays_query = _OPEN_DELAY_COUNTS
    parameters: tuple[int, ...] = ()
    if len(ids) <= IN_LIST_LIMIT:  # a few measures: ask for theirs only
        in_list = f" AND measure_id IN ({', '.join('?' * len(ids))})"
        milestones_query += in_list
        delays_query += in_list
        parameters = tuple(ids)
    delays_query += " GROUP BY measure_id"
    open_milestones = map(MilestoneRow._make, connection.execute(milestones_query, parameters))
    open_delays: dict[int, int] = dict(connection.execute(delays_query, parameters))
    return views_with_figures(measures, open_milestones, open_delays, today)


def views_with_figures(
    measures: Sequence[Any],
    open_milestones: Iterable[Any],
    open_delays: Mapping[int, int],
    today: date,
) -> list[MeasureView]:
    """The list's views of `measures` from their open milestones (rows of MilestoneRow's
    fields, perhaps of other measures too) and their numbers of open delays (by key)."""
    ids = {measure.key for measure in measures}
    best: dict[int, tuple[Any, Any]] = {}
    for row in open_milestones:
        if row.measure_id not in ids:
            continue
        key = milestone_order(row)
        current = best.get(row.measure_id)
        if current is None or key < current[0]:
            best[row.measure_id] = (key, row)
    next_milestones = {mid: milestone_view(row, today) for mid, (_, row) in best.items()}
    return [
        measure_view(measure, next_milestones.get(measure.key), open_delays.get(measure.key, 0))
        for measure in measures
    ]


def read_measure(connection: sqlite3.Connection, number: str, today: date) -> MeasureDetail:
    """One measure with its milestones, delays and history (newest first)."""
    normalised = parse_number(number)
    found = connection.execute(_MEASURE_BY_NUMBER, (normalised,)).fetchone()
    if found is None:
        raise NotFoundError(f"Maßnahme {normalised} gibt es nicht")
    measure = MeasureRow._make(found)
    of_measure = (measure.key,)
    milestones = [
        milestone_view(row, today)
        for row in sorted(
            map(MilestoneRow._make, connection.execute(_MILESTONES_OF_MEASURE, of_measure)),
            key=milestone_order,
        )
    ]
    delays = [
        delay_view(row)
        for row in map(DelayRow._make, connection.execute(_DELAYS_OF_MEASURE, of_measure))
    ]
    events = read_events(connection, measure.key, measure.number)
    # The list view's two figures come from the rows just read (no extra queries).
    next_open = next((m for m in milestones if not m.done), None)
    open_count = sum(delay.is_open for delay in delays)
    return MeasureDetail(
        measure=measure_view(measure, next_open, open_count),
        milestones=tuple(milestones),
        delays=tuple(delays),
        history=tuple(events),
    )


def read_events(connection: sqlite3.Connection, measure_id: int, number: str) -> list[EventView]:
    """The history of one measure, newest first (ROW_ERRORS if an event cannot be read)."""
    return [
        event_view(
            EventRow(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                history.decode_details(row[7]),
                row[8],
            ),
            number,
        )
        for row in connection.execute(_EVENTS_OF_MEASURE, (measure_id,))
    ]


# --- views of rows (or of ORM objects with the same attributes) ---------------------------


_MEASURE_VIEW_FIELDS = tuple(
    name for name in MeasureRow._fields if name not in ("status", "withdrawn")
)


def measure_view(
    measure: Any, next_milestone: MilestoneView | None, open_delays: int
) -> MeasureView:
    """The list's view of a measure (a row, or a record with the measure's columns)."""
    return MeasureView(
        status=Status(measure.status),
        withdrawn=bool(measure.withdrawn),
        next_milestone=next_milestone,
        open_delays=open_delays,
        **{name: getattr(measure, name) for name in _MEASURE_VIEW_FIELDS},
    )


def milestone_view(milestone: Any, today: date) -> MilestoneView:
    done = bool(milestone.done)
    return MilestoneView(
        **{name: getattr(milestone, name) for name in _MILESTONE_VIEW_FIELDS},
        done=done,
        overdue=is_overdue(milestone.due, done, today),
    )


@functools.lru_cache(maxsize=4096)
def _deadline_key(due: str | None) -> tuple[date, int]:
    """Cached: thousands of milestones share a few hundred distinct due dates."""
    loose = from_iso(due)
    return loose.deadline_key() if loose else (date.max, 0)


def milestone_order(milestone: Any) -> tuple[bool, tuple[date, int], str, str]:
    """Open before done; by deadline (undated last); then title and id for a stable order."""
    return (bool(milestone.done), _deadline_key(milestone.due), milestone.title, milestone.id)


def delay_view(delay: Any) -> DelayView:
    return DelayView(**{name: getattr(delay, name) for name in _DELAY_VIEW_FIELDS})


def event_view(event: Any, number: str, conflict: str | None = None) -> EventView:
    """The view of an event (a row or a record); its conflict as the row says, or given."""
    return EventView(
        conflict=(conflict if conflict is not None else getattr(event, "conflict", None)) or "",
        id=event.id,
        number=number,
        kind=event.kind,
        occurred_at=event.occurred_at,
        author=event.author,
        note=event.note,
        from_status=Status(event.from_status) if event.from_status else None,
        to_status=Status(event.to_status) if event.to_status else None,
        details=event.details,
        summary=history.describe(event.kind, event.from_status, event.to_status, event.details),
    )
