"""The catalogue service: every question and every change the CLI and the UI may ask for.

The hot reads are plain SQL in `koordinator.core.store.fast_reads`; the writes go through the
store's `Change` (`Store.changing()`), whose SQLite side imports SQLAlchemy (so the UI's first
paint, which needs only the reads, does not import it).

Each public method is one user action and one short transaction: it reads or writes through
`Store.reading_changes()` / `Store.changing()`, records exactly one history event per change, raises
`KoordinatorError` subclasses with German one-line messages for user mistakes, and returns
plain views (`koordinator.core.views`).  Nothing here knows about terminals.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from koordinator.core import history, replay
from koordinator.core.dates import (
    LooseDate,
    causal_timestamp,
    from_iso,
    happened_on,
    local_today,
    utc_now,
)
from koordinator.core.errors import (
    NOTHING_TO_UNDO,
    ConflictError,
    InputError,
    KoordinatorError,
    NotFoundError,
    WorkflowError,
)
from koordinator.core.history import EventKind, new_event_id
from koordinator.core.numbers import MAX_SEQUENCE, SEQUENCE_LIMIT, parse_number
from koordinator.core.records import (
    Delay,
    Event,
    Measure,
    Milestone,
    Origin,
    editable,
    label,
    payload,
    roles,
)
from koordinator.core.store import fast_reads
from koordinator.core.store.fast_reads import event_view as _event_view
from koordinator.core.store.fast_reads import milestone_order as _milestone_order
from koordinator.core.store.fast_reads import milestone_view as _milestone_view
from koordinator.core.store.interface import Change, ChangeRead
from koordinator.core.store.sqlite_store import SqliteStore
from koordinator.core.text import clip, text_problem
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
        self.database.warm_up()

    # --- reading ---------------------------------------------------------------------------

    # fields, list_measures, measure: plain SQL on sqlite3 (fast_reads.ScreenReads), the same
    # code that paints the UI's first screen before this module is imported.

    def history(self, number: str | None = None, *, limit: int | None = None) -> list[EventView]:
        """History events, newest first; of one measure or of the whole catalogue."""
        with self.database.reading_changes() as change:
            measure_id = None if number is None else _find(change, number).key
            events = change.events_newest_first(measure_id=measure_id, limit=limit)
            conflicts = change.conflicts(measure_id)
            return [
                _event_view(event, event.number, conflicts.get(event.id, "")) for event in events
            ]

    # --- measures ----------------------------------------------------------------------------

    def create_measure(
        self,
        field_code: int,
        title: str,
        *,
        status: Status = Status.PLANNING,
        on: LooseDate | None = None,
        **texts: str,
    ) -> MeasureView:
        """A new measure, numbered after the last one of its field, origin 'added' `on`
        (today unless given); `texts` are its other editable fields (`records.editable`:
        unit, note)."""
        title = _required_text(title, label(Measure, "title"))
        if status.is_final:
            raise InputError(f"Eine neue Maßnahme kann nicht „{status.label}“ sein.")
        with self.database.changing() as change:
            codes = change.field_codes()
            if field_code not in codes:
                known = ", ".join(str(code) for code in codes)
                raise NotFoundError(
                    f"Handlungsfeld {field_code} gibt es nicht – vorhanden: {known}"
                )
            last = change.last_sequence(field_code) or 0
            if last >= MAX_SEQUENCE:
                raise InputError(
                    f"Handlungsfeld {field_code} ist voll – {SEQUENCE_LIMIT}, die letzte "
                    f"Maßnahme ist {field_code}.{last}"
                )
            sequence = last + 1
            # Checked here, so that a refusal names the number it would have had.
            values = _edited_texts({"title": title, **texts}, f"{field_code}.{sequence}")
            origin = self._happened(on, f"Maßnahme {field_code}.{sequence}: aufgenommen am")
            now = self._now(change)
            created = new_event_id()
            new = Measure(
                number=f"{field_code}.{sequence}",
                uid=created,
                field_code=field_code,
                origin=Origin.ADDED,
                origin_date=origin.iso(),
                status=status.value,
                revision=1,
                updated_at=now,
                **_texts_of_new(values),
            )
            measure = change.add_measure(new, sequence=sequence)
            self._record(
                change,
                measure,
                EventKind.MEASURE_CREATED,
                to_status=status,
                details={"measure": payload(Measure, measure), **self._on_details(origin)},
                now=now,
                bump=False,
                event_id=created,
            )
            return change.measure_views([measure], today=self._today())[0]

    def edit_measure(
        self,
        number: str,
        *,
        expected_revision: int | None = None,
        **texts: str | None,
    ) -> MeasureView:
        """Change editable fields (`records.editable`: title, responsible unit, note); a
        field given None stays, unchanged values record nothing."""
        given = {name: value for name, value in texts.items() if value is not None}
        wanted = _edited_texts(given, parse_number(number))
        with self.database.changing() as change:
            measure = _find(change, number, expected_revision)
            changes: dict[str, list[str]] = {
                name: [getattr(measure, name), value]
                for name, value in wanted.items()
                if value != getattr(measure, name)
            }
            if changes:
                new_texts: dict[str, Any] = {name: new for name, (_old, new) in changes.items()}
                change.edit_measure(measure.key, new_texts)
                measure = self._record(
                    change, measure, EventKind.MEASURE_EDITED, details={"changes": changes}
                )[1]
                measure = dataclasses.replace(measure, **new_texts)
            return change.measure_views([measure], today=self._today())[0]

    # --- status ------------------------------------------------------------------------------

    def renumber(
        self, number: str, new_number: str, *, expected_revision: int | None = None
    ) -> EventView:
        """Give the measure another number, free and of a known field (its uid stays)."""
        new_number = parse_number(new_number)
        with self.database.changing() as change:
            measure = _find(change, number, expected_revision)
            if new_number == measure.number:
                raise InputError(f"Maßnahme {measure.number} hat schon diese Nummer")
            field_code, _, sequence = new_number.partition(".")
            codes = change.field_codes()
            if int(field_code) not in codes:
                known = ", ".join(str(code) for code in codes)
                raise NotFoundError(
                    f"Handlungsfeld {field_code} gibt es nicht – vorhanden: {known}"
                )
            if int(sequence) > MAX_SEQUENCE:
                raise InputError(f"„{new_number}“ ist zu groß – {SEQUENCE_LIMIT}")
            _check_free(change, new_number)
            change.set_number(measure.key, new_number)
            renumbered = dataclasses.replace(measure, number=new_number, field_code=int(field_code))
            return self._record(
                change,
                renumbered,
                EventKind.MEASURE_RENUMBERED,
                details={"previous": measure.number, "number": new_number},
            )[0]

    def change_status(
        self,
        number: str,
        target: Status | str,
        *,
        note: str = "",
        receiving_unit: str = "",
        reason: str = "",
        delay: DelayInput | None = None,
        on: LooseDate | None = None,
        expected_revision: int | None = None,
    ) -> EventView:
        """Move a measure to `target`, with the data the workflow asks for, as it happened
        `on` (today unless given; recorded in the event when it is another day).

        To "delayed" a delay is recorded (cause Corona and since `on` unless given); to
        "on schedule" or "established" the open delays are resolved `on`.
        """
        target = parse_status(target) if isinstance(target, str) else target
        if target == Status.DELAYED and delay is None:
            delay = DelayInput()
        with self.database.changing() as change:
            measure = _find(change, number, expected_revision)
            current = Status(measure.status)
            day = self._happened(on, f"Maßnahme {measure.number}: Statuswechsel am")
            now = self._now(change)
            _check_move(
                measure,
                target,
                note=note,
                receiving_unit=receiving_unit,
                reason=reason,
                has_delay=delay is not None,
            )
            details: dict[str, Any] = self._on_details(day)
            if target == Status.HANDED_OVER:
                details["receiving_unit"] = receiving_unit.strip()
            if target == Status.DROPPED:
                details["reason"] = reason.strip()
            if target == Status.DELAYED and delay is not None:
                delay = dataclasses.replace(delay, since=delay.since or day)
                details["delay"] = self._add_delay(change, measure, delay, now)
            if target in RESOLVES_DELAYS:
                resolved = self._resolve_open_delays(change, measure, day)
                if resolved:
                    details.update(resolved)
            return self._save_change(
                change,
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
        with self.database.changing() as change:
            measure = _find(change, number)
            now = self._now(change)
            milestone = Milestone(
                id=str(uuid.uuid4()),
                title=title,
                due=due.iso() if due else None,
                done=done or done_on is not None,
                done_on=(
                    self._happened(done_on, f"Maßnahme {measure.number}: erreicht am").iso()
                    if done_on
                    else None
                ),
                note=note.strip(),
                created_at=now,
            )
            change.add_milestone(measure.key, milestone)
            self._record(
                change,
                measure,
                EventKind.MILESTONE_ADDED,
                details={"milestone": payload(Milestone, milestone)},
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
        with self.database.changing() as change:
            measure = _find(change, number)
            milestone = self._pick_open_milestone(change, measure, which)
            done_on = self._happened(on, f"Maßnahme {measure.number}: erreicht am").iso()
            milestone = dataclasses.replace(milestone, done=True, done_on=done_on)
            change.update_milestone(milestone.id, {"done": True, "done_on": done_on})
            self._record(
                change,
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
        """New title, due date and/or note of the milestone `milestone_id` (its id, or its
        exact title); nothing is recorded if nothing changes."""
        with self.database.changing() as change:
            measure = _find(change, number)
            milestone = _pick_milestone(change, measure, milestone_id)
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
            if changes:
                values = {name: value for name, (_, value) in changes.items()}
                change.update_milestone(milestone.id, values)
                milestone = dataclasses.replace(milestone, **values)
                self._record(
                    change,
                    measure,
                    EventKind.MILESTONE_EDITED,
                    details={
                        "milestone_id": milestone.id,
                        "title": milestone.title,
                        "changes": changes,
                    },
                )
            return _milestone_view(milestone, self._today())

    def delete_milestone(self, number: str, which: str) -> EventView:
        """Remove a mistaken milestone (`which`: its id, or its exact title)."""
        with self.database.changing() as change:
            measure = _find(change, number)
            milestone = _pick_milestone(change, measure, which)
            change.delete_milestone(milestone.id)
            return self._save_change(
                change,
                measure,
                EventKind.MILESTONE_DELETED,
                details={"milestone_id": milestone.id, "title": milestone.title},
            )

    # --- delays ------------------------------------------------------------------------------

    def edit_delay(
        self,
        number: str,
        delay_id: str | None = None,
        *,
        cause: str | None = None,
        since: LooseDate | None = None,
        until: LooseDate | None = None,
        clear_until: bool = False,
        note: str | None = None,
    ) -> EventView | None:
        """New cause, since, until and/or note of an open delay (`delay_id`; None: the
        measure's only open one); None, nothing recorded, if nothing changes."""
        with self.database.changing() as change:
            measure = _find(change, number)
            delay = _pick_open_delay(change, measure, delay_id)
            wanted: dict[str, str | None] = {}
            if cause is not None:
                cleaned = _required_text(cause, "Ursache")
                # "Corona" as typed is the well-known cause, stored by code (as `_add_delay`)
                is_default = cleaned.lower() == DEFAULT_DELAY_CAUSE
                wanted["cause"] = DEFAULT_DELAY_CAUSE if is_default else cleaned
            if since is not None:
                wanted["since"] = since.iso()
            if until is not None or clear_until:
                wanted["until"] = until.iso() if until else None
            if note is not None:
                wanted["note"] = note.strip()
            delay_start(  # "until" must not lie before "since", as when it was logged
                from_iso(wanted.get("since", delay.since)),
                from_iso(wanted.get("until", delay.until)),
                self._today(),
            )
            # In the stored order (details are kept with sorted keys): the event returned
            # reads as the history will.
            changes = {
                name: [getattr(delay, name), value]
                for name, value in sorted(wanted.items())
                if getattr(delay, name) != value
            }
            if not changes:
                return None
            change.update_delay(delay.id, {name: new for name, (_, new) in changes.items()})
            return self._save_change(
                change,
                measure,
                EventKind.DELAY_EDITED,
                details={"delay_id": delay.id, "changes": changes},
            )

    def log_delay(
        self, number: str, delay: DelayInput | None = None, *, note: str = ""
    ) -> EventView:
        """Record a delay.  A measure that is not yet delayed moves to "delayed" with it."""
        delay = delay or DelayInput()
        with self.database.changing() as change:
            measure = _find(change, number)
            current = Status(measure.status)
            now = self._now(change)
            if current != Status.DELAYED:
                _check_move(measure, Status.DELAYED, has_delay=True)
                details = {"delay": self._add_delay(change, measure, delay, now)}
                return self._save_change(
                    change,
                    measure,
                    EventKind.STATUS_CHANGED,
                    status=Status.DELAYED,
                    note=note,
                    from_status=current,
                    to_status=Status.DELAYED,
                    details=details,
                    now=now,
                )
            details = {"delay": self._add_delay(change, measure, delay, now)}
            return self._save_change(
                change, measure, EventKind.DELAY_LOGGED, note=note, details=details, now=now
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
        with self.database.changing() as change:
            measure = _find(change, number)
            current = Status(measure.status)
            if current == Status.DELAYED:
                if return_to not in (Status.ON_SCHEDULE, Status.ESTABLISHED):
                    raise InputError(
                        "Nach behobener Verzögerung geht es weiter mit „Im Zeitplan“ oder „Etabliert“."
                    )
                details = self._resolve_open_delays(change, measure, on)
                return self._save_change(
                    change,
                    measure,
                    EventKind.STATUS_CHANGED,
                    status=return_to,
                    note=note,
                    from_status=current,
                    to_status=return_to,
                    details=details,
                )
            details = self._resolve_open_delays(change, measure, on)
            if not details:
                raise WorkflowError(f"Maßnahme {measure.number} hat keine offene Verzögerung.")
            return self._save_change(
                change, measure, EventKind.DELAY_RESOLVED, note=note, details=details
            )

    # --- undo ------------------------------------------------------------------------------

    def last_undoable(self, *, older_than: str | None = None) -> EventView | None:
        """This author's newest change that can be undone and is not undone yet (older than
        the change `older_than`, if given: the one before a refused undo)."""
        with self.database.reading_changes() as change:
            found = self._last_undoable(change, older_than)
            return _event_view(found, found.number) if found else None

    def undo_last(
        self,
        expected_event_id: str | None = None,
        *,
        note: str = "",
        older_than: str | None = None,
    ) -> EventView:
        """Reverse this author's newest change (older than `older_than`, if given), recorded
        as a "change_undone" event.

        `expected_event_id` is the change the user confirmed; if another one has become the
        newest meanwhile, nothing is undone.  A change that someone else has built on since
        (a later event on the same measure by another author) is refused, not overwritten.
        """
        with self.database.changing() as change:
            event = self._last_undoable(change, older_than)
            if event is None:
                raise WorkflowError(NOTHING_TO_UNDO)
            number = event.number
            if expected_event_id is not None and event.id != expected_event_id:
                raise ConflictError(
                    "Die letzte Änderung ist inzwischen eine andere – bitte erneut versuchen."
                )
            summary = history.summary(event)
            rules = history.KINDS[event.kind]
            if not rules.undoable:
                raise WorkflowError(rules.not_undoable(event))
            # By identity: a withdrawn measure's number may be another's now.
            measure = change.measure_by_uid(event.measure)
            assert measure is not None  # its event names it, and measures are never deleted
            newer_by_others = change.author_of_newer_change(
                measure.key, after=event.occurred_at, other_than=self.author
            )
            if newer_by_others is not None:
                raise ConflictError(
                    f"Maßnahme {number}: „{summary}“ kann nicht rückgängig gemacht werden – "
                    f"{newer_by_others} hat die Maßnahme danach geändert"
                )
            # As it took effect in the merged history: what stood before it in replay order
            # comes back, a colleague's change merged before it stays.
            own_history = change.events_newest_first(measure_id=measure.key)
            restore = history.inverse(event, replay.state_before(own_history, event.id))
            if "number" in restore.get("measure", {}):
                _check_free(change, restore["measure"]["number"])
            # Replay's rule for an undo (history.ChangeUndone.conflict), asked before it is
            # recorded, so that what is stored is what the history replays to.
            if "status" in restore.get("measure", {}) and measure.status != event.to_status:
                raise ConflictError(
                    f"Maßnahme {number}: „{summary}“ kann nicht rückgängig gemacht werden – "
                    f"sie ist inzwischen „{Status(measure.status).label}“"
                )
            before = Status(measure.status)
            now = self._now(change)
            change.restore(measure.key, restore, now=now)
            after = Status(restore.get("measure", {}).get("status", measure.status))
            return self._record(
                change,
                measure,
                EventKind.CHANGE_UNDONE,
                now=now,
                note=note,
                from_status=before if before != after else None,
                to_status=after if before != after else None,
                details={
                    "undone_event_id": event.id,
                    "undone_kind": event.kind,
                    "undone_summary": summary,
                    "restore": restore,
                },
                status=after,
            )[0]

    def _last_undoable(self, change: ChangeRead, older_than: str | None = None) -> Event | None:
        """The newest of this author's events that is not an undo, not undone, took effect
        (a merge may have found it in conflict: then it changed nothing to take back) and is
        of a kind that can be undone, after skipping those up to `older_than`."""
        undone: set[str] = set()
        not_applied = change.conflicts()
        passed = older_than is None
        for event in change.events_newest_first(author=self.author):
            if event.kind == EventKind.CHANGE_UNDONE:
                undone.add(event.details.get("undone_event_id", ""))
            elif not passed:
                passed = event.id == older_than
            elif (
                event.id not in undone
                and event.id not in not_applied
                and history.KINDS[event.kind].undoable
                and not _withdrawn(change, event)
            ):
                return event
        return None

    # --- internals ---------------------------------------------------------------------------

    def _now(self, change: ChangeRead) -> str:
        """The time of this action's event: after every event the database holds
        (`dates.causal_timestamp`), so replay order is the order changes were made in."""
        return causal_timestamp(self._clock(), change.latest_event_time())

    def _happened(self, on: LooseDate | None, what: str) -> LooseDate:
        """The day something happened: `on`, else today; never after today."""
        return happened_on(on, self._today(), what=what)

    def _on_details(self, day: LooseDate) -> dict[str, str]:
        """The `on` of an event's details: the day its change happened, when that is not
        the day it is recorded (`history.event_day` reads it back)."""
        return {} if day == LooseDate.from_date(self._today()) else {"on": day.iso()}

    def _record(
        self,
        change: Change,
        measure: Measure,
        kind: EventKind,
        *,
        status: Status | None = None,
        note: str = "",
        from_status: Status | None = None,
        to_status: Status | None = None,
        details: dict[str, Any] | None = None,
        now: str | None = None,
        bump: bool = True,
        event_id: str | None = None,
    ) -> tuple[EventView, Measure]:
        """Write the history event of this action and mark the measure as changed (its
        `status`, its next revision, now); the event's view and the measure as written."""
        now = now or self._now(change)
        values = history.event_values(
            measure.number,
            measure.key,
            kind,
            occurred_at=now,
            author=self.author,
            note=note,
            from_status=from_status,
            to_status=to_status,
            details=details,
            make_id=(lambda: event_id) if event_id else new_event_id,
        )
        change.add_event(values)
        if bump:
            new_status = status.value if status else measure.status
            measure = dataclasses.replace(
                measure, status=new_status, revision=measure.revision + 1, updated_at=now
            )
            change.save_state(
                measure.key, status=new_status, revision=measure.revision, updated_at=now
            )
        return _event_view(SimpleNamespace(**values), measure.number), measure

    def _save_change(
        self,
        change: Change,
        measure: Measure,
        kind: EventKind,
        *,
        status: Status | None = None,
        note: str = "",
        from_status: Status | None = None,
        to_status: Status | None = None,
        details: dict[str, Any] | None = None,
        now: str | None = None,
    ) -> EventView:
        """`_record` for the status and delay actions, which return the event's view."""
        return self._record(
            change,
            measure,
            kind,
            status=status,
            note=note,
            from_status=from_status,
            to_status=to_status,
            details=details,
            now=now,
        )[0]

    def _add_delay(
        self, change: Change, measure: Measure, delay: DelayInput, now: str
    ) -> dict[str, Any]:
        """A new delay row, stamped with its event's time `now` (snapshots rely on it)."""
        cause = _required_text(delay.cause, "Ursache")
        if cause.lower() == DEFAULT_DELAY_CAUSE:
            cause = DEFAULT_DELAY_CAUSE  # "Corona" as typed is the well-known cause, stored by code
        since = delay_start(delay.since, delay.until, self._today())
        row = SimpleNamespace(
            id=str(uuid.uuid4()),
            measure_id=measure.key,
            cause=cause,
            since=since.iso(),
            until=delay.until.iso() if delay.until else None,
            note=delay.note.strip(),
            resolved_on=None,
            created_at=now,
        )
        change.add_delay(vars(row))
        return payload(Delay, row)

    def _resolve_open_delays(
        self, change: Change, measure: Measure, on: LooseDate | None
    ) -> dict[str, Any]:
        open_ids = change.open_delay_ids(measure.key)
        if not open_ids:
            return {}
        resolved_on = self._happened(on, f"Maßnahme {measure.number}: behoben am").iso()
        change.resolve_open_delays(measure.key, resolved_on)
        return {"resolved_delays": open_ids, "resolved_on": resolved_on}

    def _pick_open_milestone(
        self, change: Change, measure: Measure, which: str | None
    ) -> Milestone:
        """The open milestone titled `which` (case and surrounding spaces aside, never a part
        of a title: "Test" is not "Testbetrieb"), or without a title the next open one."""
        milestones = sorted(change.milestones(measure.key), key=_milestone_order)
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


def _pick_milestone(change: Change, measure: Measure, which: str) -> Milestone:
    """The milestone whose id is `which`, else the one titled `which` (case and surrounding
    spaces aside, as `Catalogue._pick_open_milestone`), open or done."""
    milestones = sorted(change.milestones(measure.key), key=_milestone_order)
    by_id = [m for m in milestones if m.id == which]
    wanted = which.strip().casefold()
    matches = by_id or [m for m in milestones if m.title.strip().casefold() == wanted]
    if len(matches) == 1:
        return matches[0]
    problem = f"gibt es {len(matches)}-mal" if matches else "nicht gefunden"
    raise (InputError if matches else NotFoundError)(
        f"Maßnahme {measure.number}: Meilenstein „{clip(which.strip(), _TITLE_IN_MESSAGE)}“ "
        f"{problem} – vorhanden: {_quoted_titles(milestones)}"
    )


def _pick_open_delay(change: Change, measure: Measure, delay_id: str | None) -> Delay:
    """The open delay `delay_id`, or without one the measure's only open delay."""
    delays = change.delays(measure.key)
    open_delays = [d for d in delays if d.is_open]
    if delay_id is not None:
        found = next((d for d in delays if d.id == delay_id), None)
        if found is None:
            raise NotFoundError(f"Maßnahme {measure.number}: Verzögerung {delay_id} gibt es nicht")
        if not found.is_open:
            raise WorkflowError(
                f"Maßnahme {measure.number}: die Verzögerung ist schon behoben – "
                "nur eine offene Verzögerung lässt sich ändern"
            )
        return found
    if not open_delays:
        raise WorkflowError(f"Maßnahme {measure.number} hat keine offene Verzögerung.")
    if len(open_delays) > 1:
        ids = ", ".join(d.id for d in open_delays)
        raise InputError(
            f"Maßnahme {measure.number} hat {len(open_delays)} offene Verzögerungen – "
            f"welche? Kennungen: {ids}"
        )
    return open_delays[0]


def _find(change: ChangeRead, number: str, expected_revision: int | None = None) -> Measure:
    """The measure a change acts on: it exists, this version can read it, and (given
    `expected_revision`) nobody has changed it since."""
    normalised = parse_number(number)
    measure = change.measure(normalised)
    if measure is None:
        raise NotFoundError(f"Maßnahme {normalised} gibt es nicht")
    # ROW_ERRORS unless this version can read its status and every event of its history:
    # a change written onto a damaged measure would be lost again when the file is
    # replaced by its backup.
    Status(measure.status)
    change.check_history_readable(measure)
    if expected_revision is not None and measure.revision != expected_revision:
        raise _conflict(change, measure)
    return measure


def _withdrawn(change: ChangeRead, event: Event) -> bool:
    """Whether the event's measure has been withdrawn (its changes then undo nothing)."""
    measure = change.measure_by_uid(event.measure)
    return measure is None or measure.withdrawn


def _check_free(change: ChangeRead, number: str) -> None:
    """A number no measure (not withdrawn) has."""
    holder = change.measure(number)
    if holder is not None:
        raise ConflictError(f"Die Nummer {number} hat schon „{holder.title}“")


def _conflict(change: ChangeRead, measure: Measure) -> ConflictError:
    """The refusal of a change made on an older revision; names who changed it last."""
    latest_author = change.latest_author(measure.key)
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


_MEASURE_TEXTS = editable(Measure)


def _texts_of_new(values: Mapping[str, str]) -> dict[str, Any]:
    """Every editable text of a new measure, "" where none was given."""
    return {name: values.get(name, "") for name in _MEASURE_TEXTS}


def _edited_texts(texts: Mapping[str, str], number: str = "") -> dict[str, str]:
    """A measure's editable texts as stored: without surrounding blanks, the title not
    blank, each a text the catalogue can hold (InputError naming the measure and the
    field); a name that is not an editable field is a programming error."""
    unknown = sorted(texts.keys() - set(_MEASURE_TEXTS))
    if unknown:
        raise TypeError(f"not an editable field of a measure: {', '.join(unknown)}")
    cleaned = {}
    for name, value in texts.items():
        what = label(Measure, name)
        cleaned[name] = _required_text(value, what) if name == "title" else value.strip()
        problem = text_problem(cleaned[name], multiline=roles(Measure)[name].multiline)
        if problem:
            measure = f"Maßnahme {number}: " if number else ""
            raise InputError(f"{measure}{what}: {problem}")
    return cleaned


def _required_text(value: str, what: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InputError(f"{what} darf nicht leer sein")
    return cleaned
