"""The catalogue service: every question and every change the CLI and the UI may ask for.

The hot reads are plain SQL in `koordinator.core.store.fast_reads`; this module adds SQLAlchemy for
the writes (so the UI's first paint, which needs only the reads, does not import it).

Each public method is one user action and one short transaction: it reads or writes through
`SqliteStore.read()` / `SqliteStore.write()`, records exactly one history event per change, raises
`KoordinatorError` subclasses with German one-line messages for user mistakes, and returns
plain views (`koordinator.core.views`).  Nothing here knows about terminals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from koordinator.core import history
from koordinator.core.dates import LooseDate, local_today, timestamp, utc_now
from koordinator.core.errors import (
    ConflictError,
    InputError,
    KoordinatorError,
    NotFoundError,
    WorkflowError,
)
from koordinator.core.history import EventKind
from koordinator.core.numbers import parse_number
from koordinator.core.store import fast_reads, sqlite_file
from koordinator.core.store.fast_reads import event_view as _event_view
from koordinator.core.store.fast_reads import milestone_order as _milestone_order
from koordinator.core.store.fast_reads import milestone_view as _milestone_view
from koordinator.core.store.models import (
    MEASURE_COLUMNS,
    Delay,
    FieldOfAction,
    HistoryEvent,
    Measure,
    Milestone,
    delay_fields,
    measure_fields,
    milestone_fields,
    new_event,
)
from koordinator.core.store.sqlite_store import (
    SqliteStore,
    check_events_readable,
    measure_views_in,
)
from koordinator.core.text import clip
from koordinator.core.views import (
    EventView,
    MeasureView,
    MilestoneView,
)
from koordinator.core.workflow import (
    DEFAULT_DELAY_CAUSE,
    RESOLVES_DELAYS,
    DelayInput,
    MoveRequirements,
    Status,
    check_move,
    delay_start,
    parse_status,
)

if TYPE_CHECKING:
    from sqlalchemy import Row

    # A row of MEASURE_COLUMNS as the writes read it (`_find_row`).  SQLAlchemy 2.1 types a
    # Row by its columns' types; these annotations only need its attributes.
    MeasureRow = Row[*tuple[Any, ...]]


class Catalogue(fast_reads.ScreenReads):
    """The service layer over one open database, acting for one author."""

    def __init__(
        self,
        database: SqliteStore,
        *,
        author: str,
        today: Callable[[], date] = local_today,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.reads = database.reads
        self.author = author
        self._today = today
        self._clock = clock

    @property
    def display_name(self) -> str:
        """The database as the UI's title names it."""
        return self.database.target.display

    @property
    def read_only(self) -> bool:
        return self.database.read_only

    @property
    def notice(self) -> str:
        return self.database.checked.notice

    @property
    def loaded(self) -> bool:
        return True  # the write side is this class

    def load(self) -> None:
        """Nothing to load (`CatalogueApi.load`: the lazy form loads this class)."""

    def close(self) -> None:
        self.database.close()

    def warm_up(self) -> None:
        """Connect, and compile the statements every status and delay change starts with.

        The UI calls this in its background load after the first paint, so that the first
        change a user saves does not pay SQLAlchemy's first connection (the dialect's
        set-up, ~20 ms) and these compilations.  Reads only; nothing is written.
        """
        with self._reading() as session:
            connection = session.connection()
            connection.execute(_MEASURE_BY_NUMBER, {"number": ""}).first()
            connection.execute(_DELAYS_OF_MEASURE, {"measure_id": 0}).all()

    # --- reading ---------------------------------------------------------------------------

    # fields, list_measures, measure: plain SQL on sqlite3 (fast_reads.ScreenReads), the same
    # code that paints the UI's first screen before this module is imported.

    def history(self, number: str | None = None, *, limit: int | None = None) -> list[EventView]:
        """History events, newest first; of one measure or of the whole catalogue."""
        query = (
            select(HistoryEvent, Measure.number)
            .join(Measure, Measure.id == HistoryEvent.measure_id)
            .order_by(HistoryEvent.occurred_at.desc(), HistoryEvent.id.desc())
        )
        with self._reading() as session:
            if number is not None:
                query = query.where(HistoryEvent.measure_id == self._find(session, number).id)
            if limit is not None:
                query = query.limit(limit)
            return [
                _event_view(event, measure_number)
                for event, measure_number in session.execute(query)
            ]

    # --- measures ----------------------------------------------------------------------------

    def create_measure(
        self,
        field_code: int,
        title: str,
        *,
        unit: str = "",
        note: str = "",
        status: Status = Status.PLANNING,
    ) -> MeasureView:
        """A new measure, numbered after the last one of its field, origin 'added' today."""
        title = _required_text(title, "Titel")
        if status.is_final:
            raise InputError(f"Eine neue Maßnahme kann nicht „{status.label}“ sein.")
        with self._writing() as session:
            if session.get(FieldOfAction, field_code) is None:
                known = ", ".join(str(code) for code in session.scalars(select(FieldOfAction.code)))
                raise NotFoundError(
                    f"Handlungsfeld {field_code} gibt es nicht – vorhanden: {known}"
                )
            last = session.scalar(
                select(func.max(Measure.sequence)).where(Measure.field_code == field_code)
            )
            sequence = (last or 0) + 1
            now = self._now()
            measure = Measure(
                number=f"{field_code}.{sequence}",
                field_code=field_code,
                sequence=sequence,
                title=title,
                unit=unit.strip(),
                origin="added",
                origin_date=LooseDate.from_date(self._today()).iso(),
                status=status.value,
                note=note.strip(),
                revision=1,
                updated_at=now,
            )
            session.add(measure)
            session.flush()
            self._record(
                session,
                measure,
                EventKind.MEASURE_CREATED,
                to_status=status,
                details={"measure": measure_fields(measure)},
                now=now,
                bump=False,
            )
            return self._measure_views(session, [measure])[0]

    def edit_measure(
        self,
        number: str,
        *,
        title: str | None = None,
        unit: str | None = None,
        note: str | None = None,
        expected_revision: int | None = None,
    ) -> MeasureView:
        """Change title, responsible unit and/or note; unchanged values record nothing."""
        wanted = {"title": title, "unit": unit, "note": note}
        with self._writing() as session:
            measure = self._find(session, number, expected_revision)
            changes: dict[str, list[str]] = {}
            for name, value in wanted.items():
                if value is None:
                    continue
                value = _required_text(value, "Titel") if name == "title" else value.strip()
                if value != getattr(measure, name):
                    changes[name] = [getattr(measure, name), value]
                    setattr(measure, name, value)
            if changes:
                self._record(
                    session, measure, EventKind.MEASURE_EDITED, details={"changes": changes}
                )
            return self._measure_views(session, [measure])[0]

    # --- status ------------------------------------------------------------------------------

    def change_status(
        self,
        number: str,
        target: Status | str,
        *,
        note: str = "",
        receiving_unit: str = "",
        reason: str = "",
        delay: DelayInput | None = None,
        expected_revision: int | None = None,
    ) -> EventView:
        """Move a measure to `target`, with the data the workflow asks for.

        To "delayed" a delay is recorded (cause Corona and since today unless given); to
        "on schedule" or "established" the open delays are resolved today.
        """
        target = parse_status(target) if isinstance(target, str) else target
        if target == Status.DELAYED and delay is None:
            delay = DelayInput()
        with self._writing() as session:
            # Statements of plain columns on the connection, not the ORM's unit of work: see
            # _save_change for why.
            connection = session.connection()
            measure = self._find_row(connection, number, expected_revision)
            current = Status(measure.status)
            now = self._now()
            _check_move(
                measure,
                target,
                note=note,
                receiving_unit=receiving_unit,
                reason=reason,
                has_delay=delay is not None,
            )
            details: dict[str, Any] = {}
            if target == Status.HANDED_OVER:
                details["receiving_unit"] = receiving_unit.strip()
            if target == Status.DROPPED:
                details["reason"] = reason.strip()
            if target == Status.DELAYED and delay is not None:
                details["delay"] = self._add_delay(connection, measure, delay, now)
            if target in RESOLVES_DELAYS:
                resolved = self._resolve_open_delays(connection, measure, None)
                if resolved:
                    details.update(resolved)
            return self._save_change(
                connection,
                measure,
                EventKind.STATUS_CHANGED,
                status=target,
                note=note,
                from_status=current,
                to_status=target,
                details=details,
                now=now,
            )

    # --- milestones --------------------------------------------------------------------------

    def add_milestone(
        self,
        number: str,
        title: str,
        *,
        due: LooseDate | None = None,
        done_on: LooseDate | None = None,
        done: bool = False,
        note: str = "",
    ) -> MilestoneView:
        """A milestone; given `done_on` (or `done`) it is recorded as already reached."""
        title = _required_text(title, "Titel des Meilensteins")
        with self._writing() as session:
            measure = self._find(session, number)
            now = self._now()
            milestone = Milestone(
                id=str(uuid.uuid4()),
                measure_id=measure.id,
                title=title,
                due=due.iso() if due else None,
                done=done or done_on is not None,
                done_on=done_on.iso() if done_on else None,
                note=note.strip(),
                created_at=now,
            )
            session.add(milestone)
            self._record(
                session,
                measure,
                EventKind.MILESTONE_ADDED,
                details={"milestone": milestone_fields(milestone)},
                now=now,
            )
            return _milestone_view(milestone, self._today())

    def complete_milestone(
        self,
        number: str,
        which: str | None = None,
        *,
        on: LooseDate | None = None,
        note: str = "",
    ) -> MilestoneView:
        """Mark a milestone reached: the one whose title matches `which`, else the next open one."""
        with self._writing() as session:
            measure = self._find(session, number)
            milestone = self._pick_open_milestone(session, measure, which)
            done_on = (on or LooseDate.from_date(self._today())).iso()
            milestone.done = True
            milestone.done_on = done_on
            self._record(
                session,
                measure,
                EventKind.MILESTONE_COMPLETED,
                note=note,
                details={
                    "milestone_id": milestone.id,
                    "title": milestone.title,
                    "done_on": done_on,
                },
            )
            return _milestone_view(milestone, self._today())

    def edit_milestone(
        self,
        number: str,
        milestone_id: str,
        *,
        title: str | None = None,
        due: LooseDate | None = None,
        clear_due: bool = False,
        note: str | None = None,
    ) -> MilestoneView:
        with self._writing() as session:
            measure = self._find(session, number)
            milestone = session.get(Milestone, milestone_id)
            if milestone is None or milestone.measure_id != measure.id:
                raise NotFoundError(f"Maßnahme {measure.number}: Meilenstein nicht gefunden")
            wanted: dict[str, str | None] = {}
            if title is not None:
                wanted["title"] = _required_text(title, "Titel des Meilensteins")
            if due is not None or clear_due:
                wanted["due"] = due.iso() if due else None
            if note is not None:
                wanted["note"] = note.strip()
            changes = {
                name: [getattr(milestone, name), value]
                for name, value in wanted.items()
                if getattr(milestone, name) != value
            }
            for name, (_, value) in changes.items():
                setattr(milestone, name, value)
            if changes:
                self._record(
                    session,
                    measure,
                    EventKind.MILESTONE_EDITED,
                    details={
                        "milestone_id": milestone.id,
                        "title": milestone.title,
                        "changes": changes,
                    },
                )
            return _milestone_view(milestone, self._today())

    # --- delays ------------------------------------------------------------------------------

    def log_delay(
        self, number: str, delay: DelayInput | None = None, *, note: str = ""
    ) -> EventView:
        """Record a delay.  A measure that is not yet delayed moves to "delayed" with it."""
        delay = delay or DelayInput()
        with self._writing() as session:
            connection = session.connection()
            measure = self._find_row(connection, number)
            current = Status(measure.status)
            now = self._now()
            if current != Status.DELAYED:
                _check_move(measure, Status.DELAYED, has_delay=True)
                details = {"delay": self._add_delay(connection, measure, delay, now)}
                return self._save_change(
                    connection,
                    measure,
                    EventKind.STATUS_CHANGED,
                    status=Status.DELAYED,
                    note=note,
                    from_status=current,
                    to_status=Status.DELAYED,
                    details=details,
                    now=now,
                )
            details = {"delay": self._add_delay(connection, measure, delay, now)}
            return self._save_change(
                connection, measure, EventKind.DELAY_LOGGED, note=note, details=details, now=now
            )

    def resolve_delays(
        self,
        number: str,
        *,
        on: LooseDate | None = None,
        return_to: Status = Status.ON_SCHEDULE,
        note: str = "",
    ) -> EventView:
        """Resolve the open delays; a delayed measure returns to `return_to` (on schedule)."""
        with self._writing() as session:
            connection = session.connection()
            measure = self._find_row(connection, number)
            current = Status(measure.status)
            if current == Status.DELAYED:
                if return_to not in (Status.ON_SCHEDULE, Status.ESTABLISHED):
                    raise InputError(
                        "Nach behobener Verzögerung geht es weiter mit „Im Zeitplan“ oder „Etabliert“."
                    )
                details = self._resolve_open_delays(connection, measure, on)
                return self._save_change(
                    connection,
                    measure,
                    EventKind.STATUS_CHANGED,
                    status=return_to,
                    note=note,
                    from_status=current,
                    to_status=return_to,
                    details=details,
                )
            details = self._resolve_open_delays(connection, measure, on)
            if not details:
                raise WorkflowError(f"Maßnahme {measure.number} hat keine offene Verzögerung.")
            return self._save_change(
                connection, measure, EventKind.DELAY_RESOLVED, note=note, details=details
            )

    # --- undo ------------------------------------------------------------------------------

    def last_undoable(self) -> EventView | None:
        """This author's newest change that is not an undo and not undone yet, if any."""
        with self._reading() as session:
            found = self._last_undoable(session)
            return _event_view(*found) if found else None

    def undo_last(self, expected_event_id: str | None = None, *, note: str = "") -> EventView:
        """Reverse this author's newest change, recorded as a "change_undone" event.

        `expected_event_id` is the change the user confirmed; if another one has become the
        newest meanwhile, nothing is undone.  A change that someone else has built on since
        (a later event on the same measure by another author) is refused, not overwritten.
        """
        with self._writing() as session:
            found = self._last_undoable(session)
            if found is None:
                raise WorkflowError(
                    "Es gibt keine eigene Änderung, die rückgängig gemacht werden kann."
                )
            event, number = found
            if expected_event_id is not None and event.id != expected_event_id:
                raise ConflictError(
                    "Die letzte Änderung ist inzwischen eine andere – bitte erneut versuchen."
                )
            summary = history.describe(
                event.kind, event.from_status, event.to_status, event.details
            )
            if event.kind == EventKind.MEASURE_CREATED:
                raise WorkflowError(
                    f"Maßnahme {number}: das Anlegen einer Maßnahme kann nicht rückgängig gemacht werden"
                )
            newer_by_others = session.scalar(
                select(HistoryEvent)
                .where(
                    HistoryEvent.measure_id == event.measure_id,
                    HistoryEvent.occurred_at > event.occurred_at,
                    HistoryEvent.author != self.author,
                )
                .order_by(HistoryEvent.occurred_at.desc())
                .limit(1)
            )
            if newer_by_others is not None:
                raise ConflictError(
                    f"Maßnahme {number}: „{summary}“ kann nicht rückgängig gemacht werden – "
                    f"{newer_by_others.author} hat die Maßnahme danach geändert"
                )
            measure = session.get_one(Measure, event.measure_id)
            restore = _restore_for(event)
            before = Status(measure.status)
            apply_restore(session, measure, restore)
            after = Status(measure.status)
            undo = self._record(
                session,
                measure,
                EventKind.CHANGE_UNDONE,
                note=note,
                from_status=before if before != after else None,
                to_status=after if before != after else None,
                details={
                    "undone_event_id": event.id,
                    "undone_kind": event.kind,
                    "undone_summary": summary,
                    "restore": restore,
                },
            )
            return _event_view(undo, number)

    def _last_undoable(self, session: Session) -> tuple[HistoryEvent, str] | None:
        rows = session.execute(
            select(HistoryEvent, Measure.number)
            .join(Measure, Measure.id == HistoryEvent.measure_id)
            .where(HistoryEvent.author == self.author)
            .order_by(HistoryEvent.occurred_at.desc(), HistoryEvent.id.desc())
        )
        undone: set[str] = set()
        for event, number in rows:
            if event.kind == EventKind.CHANGE_UNDONE:
                undone.add(event.details.get("undone_event_id", ""))
            elif event.id not in undone:
                return event, number
        return None

    # --- internals ---------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """`SqliteStore.read()`; a row this version cannot read is a damaged database."""
        with (
            sqlite_file.translated_row_errors(self.database.target),
            self.database.read() as session,
        ):
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """`SqliteStore.write()`; a row this version cannot read is a damaged database, and
        nothing is written."""
        with (
            sqlite_file.translated_row_errors(self.database.target),
            self.database.write() as session,
        ):
            yield session

    def _now(self) -> str:
        return timestamp(self._clock())

    def _find(self, session: Session, number: str, expected_revision: int | None = None) -> Measure:
        normalised = parse_number(number)
        measure = session.scalar(select(Measure).where(Measure.number == normalised))
        if measure is None:
            raise NotFoundError(f"Maßnahme {normalised} gibt es nicht")
        _check_readable(session, measure)
        if expected_revision is not None and measure.revision != expected_revision:
            raise _conflict(session, measure)
        return measure

    def _find_row(
        self, connection: Connection, number: str, expected_revision: int | None = None
    ) -> MeasureRow:
        """`_find` as a plain row of MEASURE_COLUMNS, read with the details' statement."""
        normalised = parse_number(number)
        measure = connection.execute(_MEASURE_BY_NUMBER, {"number": normalised}).first()
        if measure is None:
            raise NotFoundError(f"Maßnahme {normalised} gibt es nicht")
        _check_readable(connection, measure)
        if expected_revision is not None and measure.revision != expected_revision:
            raise _conflict(connection, measure)
        return measure

    def _record(
        self,
        session: Session,
        measure: Measure,
        kind: EventKind,
        *,
        note: str = "",
        from_status: Status | None = None,
        to_status: Status | None = None,
        details: dict[str, Any] | None = None,
        now: str | None = None,
        bump: bool = True,
    ) -> HistoryEvent:
        """Write the history event of this action and mark the measure as changed."""
        now = now or self._now()
        if bump:
            measure.revision += 1
        measure.updated_at = now
        event = new_event(
            measure,
            kind,
            occurred_at=now,
            author=self.author,
            note=note,
            from_status=from_status,
            to_status=to_status,
            details=details,
        )
        session.add(event)
        return event

    def _save_change(
        self,
        connection: Connection,
        measure: MeasureRow,
        kind: EventKind,
        *,
        status: Status | None = None,
        note: str = "",
        from_status: Status | None = None,
        to_status: Status | None = None,
        details: dict[str, Any] | None = None,
        now: str | None = None,
    ) -> EventView:
        """`_record` for the status and delay actions: the event and the measure's new status,
        revision and time, written with two statements built once.

        The first status change of a session is the one users feel.  Through the ORM it
        loaded the measure as an entity and flushed a unit of work whose statements are
        compiled on a process's first flush: ~10-12 ms before the commit instead of ~3 ms
        warm.  Plain statements (the same two for every status and delay action, the reads
        those of the details pane, compiled already) leave ~4-5 ms, most of it the first
        compile and execution of each new statement; the commit's fsync comes on top.
        """
        now = now or self._now()
        values = history.event_values(
            measure,
            kind,
            occurred_at=now,
            author=self.author,
            note=note,
            from_status=from_status,
            to_status=to_status,
            details=details,
        )
        connection.execute(_INSERT_EVENT, values)
        connection.execute(
            _UPDATE_MEASURE_STATE,
            {
                "measure_id": measure.id,
                "new_status": status.value if status else measure.status,
                "new_revision": measure.revision + 1,
                "new_updated_at": now,
            },
        )
        return _event_view(SimpleNamespace(**values), measure.number)

    def _add_delay(
        self, connection: Connection, measure: MeasureRow, delay: DelayInput, now: str
    ) -> dict[str, Any]:
        """A new delay row, stamped with its event's time `now` (snapshots rely on it)."""
        cause = _required_text(delay.cause, "Ursache")
        if cause.lower() == DEFAULT_DELAY_CAUSE:
            cause = DEFAULT_DELAY_CAUSE  # "Corona" as typed is the well-known cause, stored by code
        since = delay_start(delay.since, delay.until, self._today())
        row = SimpleNamespace(
            id=str(uuid.uuid4()),
            measure_id=measure.id,
            cause=cause,
            since=since.iso(),
            until=delay.until.iso() if delay.until else None,
            note=delay.note.strip(),
            resolved_on=None,
            created_at=now,
        )
        connection.execute(_INSERT_DELAY, vars(row))
        return delay_fields(row)

    def _resolve_open_delays(
        self, connection: Connection, measure: MeasureRow, on: LooseDate | None
    ) -> dict[str, Any]:
        # Read with the details' statement (compiled already, and the few resolved delays
        # cost nothing); the UPDATE runs only when there is something to resolve.
        delays = connection.execute(_DELAYS_OF_MEASURE, {"measure_id": measure.id})
        open_ids = sorted(delay.id for delay in delays if delay.resolved_on is None)
        if not open_ids:
            return {}
        resolved_on = (on or LooseDate.from_date(self._today())).iso()
        # All of them: the write transaction holds the lock, so they are the ones just read.
        connection.execute(_RESOLVE_OPEN_DELAYS, {"of_measure": measure.id, "on": resolved_on})
        return {"resolved_delays": open_ids, "resolved_on": resolved_on}

    def _pick_open_milestone(
        self, session: Session, measure: Measure, which: str | None
    ) -> Milestone:
        """The open milestone titled `which` (case and surrounding spaces aside, never a part
        of a title: "Test" is not "Testbetrieb"), or without a title the next open one."""
        milestones = sorted(
            session.scalars(select(Milestone).where(Milestone.measure_id == measure.id)),
            key=_milestone_order,
        )
        open_milestones = [m for m in milestones if not m.done]
        if which is None or not which.strip():
            if not open_milestones:
                raise NotFoundError(f"Maßnahme {measure.number} hat keinen offenen Meilenstein")
            return open_milestones[0]
        wanted = which.strip().casefold()
        matches = [m for m in open_milestones if m.title.strip().casefold() == wanted]
        if len(matches) == 1:
            return matches[0]
        if matches:
            problem = f"gibt es {len(matches)}-mal"
        elif any(m.title.strip().casefold() == wanted for m in milestones):
            problem = "ist schon erreicht"
        else:
            problem = "nicht gefunden"
        raise InputError(
            f"Maßnahme {measure.number}: offener Meilenstein „{clip(which.strip(), _TITLE_IN_MESSAGE)}“ "
            f"{problem} – offen: {_quoted_titles(open_milestones)}"
        )

    def _measure_views(self, session: Session, measures: Iterable[Any]) -> list[MeasureView]:
        """Views of the measures just written, inside this session's transaction."""
        return measure_views_in(session, measures, self._today())


_DELAY_COLUMNS = (
    Delay.id,
    Delay.cause,
    Delay.since,
    Delay.until,
    Delay.note,
    Delay.resolved_on,
)
# The measure a write acts on, and its delays (`_find_row`, `_resolve_open_delays`).  Built
# once: a statement object remembers its cache key, so executing it again skips building
# the expression and hashing it.
_MEASURE_BY_NUMBER = select(*MEASURE_COLUMNS).where(Measure.number == bindparam("number"))
_DELAYS_OF_MEASURE = (
    select(*_DELAY_COLUMNS)
    .where(Delay.measure_id == bindparam("measure_id"))
    .order_by(Delay.since, Delay.id)
)
# The writes of the status and delay actions (`Catalogue._save_change`), built once, on
# the tables rather than the mapped classes: ORM-enabled DML compiles through the ORM's
# plugin, which made the first execution of these three in a process 4.3 instead of 3.4 ms.
_MEASURE_TABLE = Measure.__table__
_DELAY_TABLE = Delay.__table__
_INSERT_EVENT = insert(HistoryEvent.__table__)
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


def _restore_for(event: HistoryEvent) -> dict[str, Any]:
    """The state operations that reverse `event` (see `apply_restore`)."""
    details = event.details
    match event.kind:
        case EventKind.MEASURE_EDITED:
            return {"measure": {name: old for name, (old, _new) in details["changes"].items()}}
        case EventKind.STATUS_CHANGED:
            restore: dict[str, Any] = {"measure": {"status": event.from_status}}
            if "delay" in details:
                restore["delete_delays"] = [details["delay"]["id"]]
            if "resolved_delays" in details:
                restore["delays"] = {i: {"resolved_on": None} for i in details["resolved_delays"]}
            return restore
        case EventKind.MILESTONE_ADDED:
            return {"delete_milestones": [details["milestone"]["id"]]}
        case EventKind.MILESTONE_COMPLETED:
            return {"milestones": {details["milestone_id"]: {"done": False, "done_on": None}}}
        case EventKind.MILESTONE_EDITED:
            old = {name: old for name, (old, _new) in details["changes"].items()}
            return {"milestones": {details["milestone_id"]: old}}
        case EventKind.DELAY_LOGGED:
            return {"delete_delays": [details["delay"]["id"]]}
        case EventKind.DELAY_RESOLVED:
            return {"delays": {i: {"resolved_on": None} for i in details["resolved_delays"]}}
    raise WorkflowError(f"Änderungen der Art „{event.kind}“ können nicht rückgängig gemacht werden")


def apply_restore(session: Session, measure: Measure, restore: dict[str, Any]) -> None:
    """Apply the state operations of a "change_undone" event (also used to replay one)."""
    for name, value in restore.get("measure", {}).items():
        setattr(measure, name, value)
    for milestone_id, values in restore.get("milestones", {}).items():
        milestone = session.get_one(Milestone, milestone_id)
        for name, value in values.items():
            setattr(milestone, name, value)
    for delay_id, values in restore.get("delays", {}).items():
        delay = session.get_one(Delay, delay_id)
        for name, value in values.items():
            setattr(delay, name, value)
    for milestone_id in restore.get("delete_milestones", []):
        session.delete(session.get_one(Milestone, milestone_id))
    for delay_id in restore.get("delete_delays", []):
        session.delete(session.get_one(Delay, delay_id))


def _check_readable(session: Session | Connection, measure: Any) -> None:
    """ROW_ERRORS (see `sqlite_file.translated_row_errors`) unless this version can read the
    measure: its status and every event of its history.  A change written onto a damaged
    measure would be lost again when the file is replaced by its backup."""
    Status(measure.status)
    check_events_readable(session, measure.id, measure.number)


def _conflict(reader: Session | Connection, measure: Any) -> ConflictError:
    """The refusal of a change made on an older revision; names who changed it last."""
    latest_author = reader.scalar(
        select(HistoryEvent.author)
        .where(HistoryEvent.measure_id == measure.id)
        .order_by(HistoryEvent.occurred_at.desc(), HistoryEvent.id.desc())
        .limit(1)
    )
    who = f" von {latest_author}" if latest_author is not None else ""
    return ConflictError(
        f"Maßnahme {measure.number} wurde inzwischen{who} geändert – "
        "bitte neu laden und die Änderung wiederholen"
    )


def _check_move(measure: Any, target: Status, **data: Any) -> MoveRequirements:
    """The workflow check, with the measure (a Measure or a row) named in the message."""
    try:
        return check_move(Status(measure.status), target, **data)
    except KoordinatorError as error:
        raise type(error)(f"Maßnahme {measure.number}: {error}") from None


_TITLE_IN_MESSAGE = 60  # characters of a milestone's title in a one-line refusal


def _quoted_titles(milestones: list[Milestone], shown: int = 8) -> str:
    """„A“, „B“ … for a one-line message: at most `shown` titles, each clipped."""
    if not milestones:
        return "keiner"
    titles = ", ".join(f"„{clip(m.title, _TITLE_IN_MESSAGE)}“" for m in milestones[:shown])
    more = len(milestones) - shown
    return titles + (f" und {more} weitere" if more > 0 else "")


def _required_text(value: str, what: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InputError(f"{what} darf nicht leer sein")
    return cleaned
