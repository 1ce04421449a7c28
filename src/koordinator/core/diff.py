"""What changed between two snapshots, or between a snapshot and the database now.

The newer side's history events that the older side lacks give the status moves (with when,
who and note); the two states give the rest: measures added, milestones reached or newly
overdue, delays opened or resolved.  "Newly overdue" is judged on each side's own day (its
export time), so a milestone that was already overdue at the older snapshot is not news.
The result reads as German text grouped by field of action, or as JSON
(docs/snapshot-format.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from koordinator.core import replay
from koordinator.core.dates import german, local_time, parse_timestamp
from koordinator.core.history import EventKind
from koordinator.core.numbers import number_key
from koordinator.core.records import Delay, Event, Measure, Milestone
from koordinator.core.snapshot import Snapshot
from koordinator.core.text import printable
from koordinator.core.views import is_overdue
from koordinator.core.workflow import Status, cause_label


@dataclass(frozen=True)
class MeasureChanges:
    number: str
    title: str
    field: int
    added: bool
    removed: bool
    status_moves: tuple[Event, ...]
    milestones_reached: tuple[Milestone, ...]
    milestones_overdue: tuple[Milestone, ...]
    delays_opened: tuple[Delay, ...]
    delays_resolved: tuple[Delay, ...]
    status: str  # the newer side's status (the older one's if the measure was removed)
    previous_number: str = ""  # the older side's number, if it was renumbered since
    withdrawn: bool = False  # withdrawn since (its author took its creation back)

    def __bool__(self) -> bool:
        return any(
            (
                self.added,
                self.removed,
                self.previous_number,
                self.withdrawn,
                self.status_moves,
                self.milestones_reached,
                self.milestones_overdue,
                self.delays_opened,
                self.delays_resolved,
            )
        )

    def lines(self) -> Iterator[str]:
        """One German line per change (without the measure's number)."""
        if self.added:
            yield f"neu im Katalog ({Status(self.status).label})"
        if self.removed:
            yield "nicht mehr enthalten"
        if self.withdrawn:
            yield "zurückgezogen"
        if self.previous_number:
            yield f"Nummer: {self.previous_number} → {self.number}"
        for move in self.status_moves:
            note = f" – {move.note}" if move.note else ""
            undo = " (rückgängig gemacht)" if move.kind == EventKind.CHANGE_UNDONE else ""
            # A move recorded later than it happened: its day, then when it was recorded.
            stated = move.details.get("on")
            when = f"am {german(stated)}, erfasst " if stated else ""
            yield (
                f"Status: {Status(move.from_status).label} → {Status(move.to_status).label}"  # type: ignore[arg-type]
                f"{undo} ({when}{local_time(move.occurred_at)}, {move.author}){note}"
            )
        if len(self.status_moves) > 1:  # where several moves end
            yield f"Status jetzt: {Status(self.status).label}"
        for milestone in self.milestones_reached:
            when = f" ({german(milestone.done_on)})" if milestone.done_on else ""
            yield f"Meilenstein erreicht: {milestone.title}{when}"
        for milestone in self.milestones_overdue:
            yield f"Meilenstein neu überfällig: {milestone.title} (fällig {german(milestone.due)})"
        for delay in self.delays_opened:
            yield f"Verzögerung begonnen: {_delay_text(delay)}"
        for delay in self.delays_resolved:
            yield f"Verzögerung behoben: {_delay_text(delay)} – behoben {german(delay.resolved_on)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "status": self.status,
            "added": self.added,
            "removed": self.removed,
            "withdrawn": self.withdrawn,
            "previous_number": self.previous_number or None,
            "status_moves": [
                {
                    "id": move.id,
                    "from": move.from_status,
                    "to": move.to_status,
                    "occurred_at": move.occurred_at,
                    "on": move.details.get("on"),
                    "author": move.author,
                    "note": move.note,
                    "undo": move.kind == EventKind.CHANGE_UNDONE,
                }
                for move in self.status_moves
            ],
            "milestones_reached": [
                {"id": m.id, "title": m.title, "done_on": m.done_on}
                for m in self.milestones_reached
            ],
            "milestones_overdue": [
                {"id": m.id, "title": m.title, "due": m.due} for m in self.milestones_overdue
            ],
            "delays_opened": [_delay_json(d) for d in self.delays_opened],
            "delays_resolved": [_delay_json(d) for d in self.delays_resolved],
        }


@dataclass(frozen=True)
class SnapshotDiff:
    old: Snapshot
    new: Snapshot
    measures: tuple[MeasureChanges, ...]  # only measures with changes, in number order

    def counts(self) -> dict[str, int]:
        return {
            "measures_added": sum(m.added for m in self.measures),
            "measures_removed": sum(m.removed for m in self.measures),
            "status_moves": sum(len(m.status_moves) for m in self.measures),
            "milestones_reached": sum(len(m.milestones_reached) for m in self.measures),
            "milestones_overdue": sum(len(m.milestones_overdue) for m in self.measures),
            "delays_opened": sum(len(m.delays_opened) for m in self.measures),
            "delays_resolved": sum(len(m.delays_resolved) for m in self.measures),
        }

    def by_field(self) -> Iterator[tuple[int, str, list[MeasureChanges]]]:
        names = self.old.fields | self.new.fields
        for code in sorted({m.field for m in self.measures}):
            yield code, names.get(code, ""), [m for m in self.measures if m.field == code]

    def text(self) -> str:
        lines = [f"Änderungen von {_side(self.old)} bis {_side(self.new)}:"]
        if not self.measures:
            return _joined([*lines, "", "Keine Änderungen."])
        for code, name, measures in self.by_field():
            lines += ["", f"Handlungsfeld {code} – {name}"]
            for measure in measures:
                lines.append(f"  {measure.number} {measure.title}")
                lines += [f"    {line}" for line in measure.lines()]
        counts = self.counts()
        parts = [
            (counts["measures_added"], "neue Maßnahme", "neue Maßnahmen"),
            (
                counts["measures_removed"],
                "Maßnahme nicht mehr enthalten",
                "Maßnahmen nicht mehr enthalten",
            ),
            (counts["status_moves"], "Statuswechsel", "Statuswechsel"),
            (counts["milestones_reached"], "Meilenstein erreicht", "Meilensteine erreicht"),
            (
                counts["milestones_overdue"],
                "Meilenstein neu überfällig",
                "Meilensteine neu überfällig",
            ),
            (counts["delays_opened"], "Verzögerung begonnen", "Verzögerungen begonnen"),
            (counts["delays_resolved"], "Verzögerung behoben", "Verzögerungen behoben"),
        ]
        summary = ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in parts if n)
        return _joined([*lines, "", f"Zusammen: {summary}."])

    def to_json(self) -> dict[str, Any]:
        return {
            "old": _side_json(self.old),
            "new": _side_json(self.new),
            "counts": self.counts(),
            "fields": [
                {"code": code, "name": name, "measures": [m.to_json() for m in measures]}
                for code, name, measures in self.by_field()
            ],
        }


def _joined(lines: list[str]) -> str:
    """The lines as text, each printable: a title or note (from a snapshot) with a line
    break or a terminal control cannot add or overwrite a line."""
    return "".join(f"{printable(line)}\n" for line in lines)


def diff(old: Snapshot, new: Snapshot) -> SnapshotDiff:
    """Measures are matched by identity (uid): a renumbered one says so."""
    old_day, new_day = _day(old), _day(new)
    before = {record.state.uid: record for record in old.measures}
    after = {record.state.uid: record for record in new.measures}
    found = []
    for uid in before.keys() | after.keys():
        earlier = before.get(uid)
        if uid not in after:
            state = before[uid].state
            found.append(_changes(state, state, (), added=False, removed=not state.withdrawn))
            continue
        record = after[uid]
        old_state = earlier.state if earlier and not earlier.state.withdrawn else None
        if record.state.withdrawn and old_state is None:
            continue  # taken back before the older side saw it: no change to tell
        known = {event.id for event in earlier.events} if earlier else set()
        changes = _changes(
            old_state,
            record.state,
            _moves(record.events, known),
            added=old_state is None,
            removed=False,
            days=(old_day, new_day),
        )
        if old_state is not None and record.state.withdrawn:
            changes = replace(changes, withdrawn=True)
        elif old_state is not None and old_state.number != record.state.number:
            changes = replace(changes, previous_number=old_state.number)
        found.append(changes)
    found.sort(key=lambda change: number_key(change.number))
    return SnapshotDiff(old, new, tuple(change for change in found if change))


def _moves(events: Sequence[Event], known: set[str]) -> tuple[Event, ...]:
    """The status moves (and undos of moves) the older side did not know, as they took
    effect: one that did not apply (a conflict) is none, and a move and its undo, both new,
    cancel out."""
    new = [event for event in events if event.id not in known]
    if not new:
        return ()
    conflicts = replay.replay(events).conflicts
    undone_here = {
        event.details["undone_event_id"]
        for event in new
        if event.kind == EventKind.CHANGE_UNDONE and event.id not in conflicts
    }
    new_ids = {event.id for event in new}
    return tuple(
        event
        for event in new
        if event.kind in (EventKind.STATUS_CHANGED, EventKind.CHANGE_UNDONE)
        and event.from_status
        and event.to_status
        and event.id not in conflicts
        and event.id not in undone_here
        and not (
            event.kind == EventKind.CHANGE_UNDONE and event.details["undone_event_id"] in new_ids
        )
    )


def _changes(
    old: Measure | None,
    new: Measure,
    moves: tuple[Event, ...],
    *,
    added: bool,
    removed: bool,
    days: tuple[date, date] | None = None,
) -> MeasureChanges:
    old_milestones = old.milestones if old else {}
    old_delays = old.delays if old else {}
    reached, overdue, opened, resolved = [], [], [], []
    if days is not None:
        old_day, new_day = days
        for milestone in new.milestones.values():
            previous = old_milestones.get(milestone.id)
            if milestone.done and not (previous and previous.done):
                reached.append(milestone)
            if _overdue(milestone, new_day) and not (previous and _overdue(previous, old_day)):
                overdue.append(milestone)
        for delay in new.delays.values():
            earlier = old_delays.get(delay.id)
            if earlier is None:
                opened.append(delay)
            if delay.resolved_on and not (earlier and earlier.resolved_on):
                resolved.append(delay)
    return MeasureChanges(
        number=new.number,
        title=new.title,
        field=new.field_code,
        added=added,
        removed=removed,
        status_moves=moves,
        milestones_reached=tuple(reached),
        milestones_overdue=tuple(overdue),
        delays_opened=tuple(opened),
        delays_resolved=tuple(resolved),
        status=new.status,
    )


def _overdue(milestone: Milestone, day: date) -> bool:
    return is_overdue(milestone.due, milestone.done, day)


def _day(snapshot: Snapshot) -> date:
    return parse_timestamp(snapshot.exported_at).astimezone().date()


def _side(snapshot: Snapshot) -> str:
    return f"{snapshot.name} (Stand {local_time(snapshot.exported_at)}, {snapshot.author})"


def _side_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "name": snapshot.name,
        "exported_at": snapshot.exported_at,
        "author": snapshot.author,
        "source": snapshot.source,
    }


def _delay_text(delay: Delay) -> str:
    cause = cause_label(delay.cause)
    until = f", voraussichtlich bis {german(delay.until)}" if delay.until else ""
    return f"{cause}, seit {german(delay.since)}{until}"


def _delay_json(delay: Delay) -> dict[str, Any]:
    return {
        "id": delay.id,
        "cause": delay.cause,
        "since": delay.since,
        "until": delay.until,
        "resolved_on": delay.resolved_on,
    }
