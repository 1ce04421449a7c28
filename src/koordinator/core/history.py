"""History events: their kinds, how they are recorded, and how they read in German.

Every change to a measure is one `HistoryEvent` row written in the same transaction as the
change itself.  `details` keeps what changed (before and after) so that snapshots can merge
events and undo can reverse them.
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, NamedTuple, TypedDict, TypeVar

from koordinator.core.dates import from_iso, german, parse_timestamp
from koordinator.core.errors import InputError, KoordinatorError, WorkflowError
from koordinator.core.paths import ENV_USER
from koordinator.core.records import (
    Delay,
    Event,
    Identifier,
    KindCode,
    LooseIso,
    Measure,
    Milestone,
    Number,
    Text,
    from_payload,
    label,
    restorable,
)
from koordinator.core.text import text_problem
from koordinator.core.workflow import Status, cause_label, check_move


class EventKind(StrEnum):
    MEASURE_CREATED = "measure_created"
    MEASURE_EDITED = "measure_edited"
    STATUS_CHANGED = "status_changed"
    MILESTONE_ADDED = "milestone_added"
    MILESTONE_COMPLETED = "milestone_completed"
    MILESTONE_EDITED = "milestone_edited"
    DELAY_LOGGED = "delay_logged"
    DELAY_RESOLVED = "delay_resolved"
    CHANGE_UNDONE = "change_undone"
    MEASURE_RENUMBERED = "measure_renumbered"
    MILESTONE_DELETED = "milestone_deleted"
    DELAY_EDITED = "delay_edited"


_TEXT_LABELS = {
    "title": "Titel",
    "note": "Notiz",
    "unit": "Verantwortlich",
    "author": "Autor",
    "cause": "Ursache",
    "reason": "Begründung",
    "receiving_unit": "übernehmende Stelle",
}
# The texts that may span lines; every other text an event brings is a single line.
MULTILINE_KEYS = frozenset({"note"})


def _new_texts(value: Any, key: str = "") -> Any:
    """(key, text) for every text an event brings in: not the old values it keeps."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            if name in ("restore", "undone_summary"):  # values from before, already stored
                continue
            if name == "changes" and isinstance(item, dict):
                for changed, pair in item.items():
                    yield from _new_texts(pair[-1], changed)
            else:
                yield from _new_texts(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _new_texts(item, key)


def decode_details(text: str | None) -> dict[str, Any]:
    """An event's stored `details` (JSON text) as a dict; ValueError if it is not a JSON
    object (json.JSONDecodeError is one), which the readers report as a damaged database."""
    if not text:
        return {}
    details = json.loads(text)
    if details.__class__ is not dict:
        raise ValueError(f"Details eines Ereignisses sind kein JSON-Objekt: {text[:40]!r}")
    return details


def named_author(
    environ: dict[str, str] | None = None, *, configured: str | None = None
) -> str | None:
    """The name someone chose to sign with: `KOORDINATOR_USER`, else the name kept in the
    settings (`configured`); None if neither (the UI then asks)."""
    environ = dict(os.environ) if environ is None else environ
    name = environ.get(ENV_USER, "").strip()
    return name or (configured or "").strip() or None


def default_author(environ: dict[str, str] | None = None) -> str:
    """`KOORDINATOR_USER`, else the operating-system user."""
    name = named_author(environ)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unbekannt"


def new_event_id() -> str:
    return str(uuid.uuid4())


def event_values(
    number: str,
    measure_id: int,
    kind: EventKind,
    *,
    occurred_at: str,
    author: str,
    note: str = "",
    from_status: Status | None = None,
    to_status: Status | None = None,
    details: dict[str, Any] | None = None,
    make_id: Callable[[], str] = new_event_id,
) -> dict[str, Any]:
    """The column values of a new event of the measure `number` (the store's `measure_id`),
    after its texts were checked: an InputError names the measure and the field."""
    for key, text in _new_texts({"author": author, "note": note, **(details or {})}):
        problem = text_problem(text, multiline=key in MULTILINE_KEYS)
        if problem:
            label = _TEXT_LABELS.get(key, key)
            raise InputError(f"Maßnahme {number}: {label}: {problem}")
    return {
        "id": make_id(),
        "measure_id": measure_id,
        "kind": kind.value,
        "occurred_at": occurred_at,
        "author": author,
        "note": note.strip(),
        "from_status": from_status.value if from_status else None,
        "to_status": to_status.value if to_status else None,
        "details": details or {},
    }


# --- the event kinds ---------------------------------------------------------------------------
#
# Each kind has one home below: the shape of its details (a TypedDict, whose annotations the
# snapshot reader derives its validator from), how it applies to a measure's state, how it
# is undone, how it reads in German, and the checks of its statuses a file must pass.


class Payload:
    """Details annotation: the payload of a new `record_type` row (`records.payload`)."""

    def __init__(self, record_type: type) -> None:
        self.record_type = record_type


class Changes:
    """Details annotation: {field: [old, new]} for some of `record_type`'s editable fields."""

    def __init__(self, record_type: type) -> None:
        self.record_type = record_type


class RestoreSpec:
    """Details annotation: an undo's state operations (see `restore`)."""


class Ids:
    """Details annotation: a non-empty list of row ids."""


MeasurePayload = Annotated[dict[str, Any], Payload(Measure)]
MilestonePayload = Annotated[dict[str, Any], Payload(Milestone)]
DelayPayload = Annotated[dict[str, Any], Payload(Delay)]
RowIds = Annotated[list[str], Ids()]


class _MeasureCreatedPayload(TypedDict):
    measure: MeasurePayload


class MeasureCreatedDetails(_MeasureCreatedPayload, total=False):
    on: LooseIso  # the day it was taken up, when not the day it was recorded (`event_day`)


class MeasureEditedDetails(TypedDict):
    changes: Annotated[dict[str, list[Any]], Changes(Measure)]


class StatusChangedDetails(TypedDict, total=False):
    receiving_unit: Text
    reason: Text
    delay: DelayPayload
    resolved_delays: RowIds
    resolved_on: LooseIso
    on: LooseIso  # the day the move happened, when not the day it was recorded (`event_day`)


class MilestoneAddedDetails(TypedDict):
    milestone: MilestonePayload


class MilestoneCompletedDetails(TypedDict):
    milestone_id: Identifier
    title: Text
    done_on: LooseIso


class MilestoneEditedDetails(TypedDict):
    milestone_id: Identifier
    title: Text
    changes: Annotated[dict[str, list[Any]], Changes(Milestone)]


class MilestoneDeletedDetails(TypedDict):
    milestone_id: Identifier
    title: Text


class DelayLoggedDetails(TypedDict):
    delay: DelayPayload


class DelayResolvedDetails(TypedDict):
    resolved_delays: RowIds
    resolved_on: LooseIso


class DelayEditedDetails(TypedDict):
    delay_id: Identifier
    changes: Annotated[dict[str, list[Any]], Changes(Delay)]


class MeasureRenumberedDetails(TypedDict):
    previous: Number
    number: Number


class ChangeUndoneDetails(TypedDict):
    undone_event_id: Identifier
    undone_kind: KindCode
    undone_summary: Text
    restore: Annotated[dict[str, Any], RestoreSpec()]


class Problem(NamedTuple):
    """What a file's event gets wrong: the key it concerns ("" for the event) and why."""

    key: str
    text: str


class Past(NamedTuple):
    """What a replay has met before an event: the measure's earlier events by id, the
    measure as it stood before each event an undo names (its inverse is derived from it),
    why the earlier events that did not apply did not (`Kind.conflict`), and what replay
    resolved beside an event (`_resolve_left_open`)."""

    events: dict[str, Event]
    states: dict[str, Measure]
    conflicts: dict[str, str]
    # The delays replay resolved with an event beyond those the event lists (another
    # database's, logged meanwhile): the event's undo opens them again.
    also_resolved: dict[str, list[str]]


class Kind:
    """The rules of one event kind; the subclasses below are the kinds."""

    kind: ClassVar[EventKind]
    details: ClassVar[type]  # the TypedDict of its details
    moves_status: ClassVar[bool] = False  # its events may carry from_status and to_status
    undoable: ClassVar[bool] = True  # a user may undo an event of this kind

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        """Apply `event` to `state` (in place); an operation on a row the state no longer
        has is noted in `skipped`, not applied."""
        raise NotImplementedError

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        """Why `event` cannot apply to `state`, the measure as replay meets it (the workflow
        in that state, a row it acts on): "" if it can.  An event that cannot apply is not
        applied, and stays in the history marked as a conflict (`replay.Replayed`)."""
        return ""

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        """The state operations that undo `event` (the "restore" of its change_undone):
        what `before`, the measure as it stood before the event in replay order, had
        where the event changed it (a colleague's change merged before it stays)."""
        raise WorkflowError(self.not_undoable(event))

    def not_undoable(self, event: Event) -> str:
        """Why an event of a kind that is not `undoable` cannot be undone."""
        return f"Änderungen der Art „{event.kind}“ können nicht rückgängig gemacht werden"

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        """One German line saying what an event of this kind changed."""
        raise NotImplementedError

    def problem(self, event: Event) -> Problem | None:
        """What a file's event of this kind gets wrong beyond its details' shape."""
        if not self.moves_status and (event.from_status or event.to_status):
            key = "from_status" if event.from_status else "to_status"
            return Problem(key, f"gehört nicht zu einem Ereignis der Art {event.kind}")
        if (event.from_status is None) != (event.to_status is None):
            return Problem("", "„from_status“ und „to_status“ gehören zusammen")
        return None


class MeasureCreated(Kind):
    kind = EventKind.MEASURE_CREATED
    details = MeasureCreatedDetails

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        skipped.append(f"Maßnahme {state.number}: zweites „angelegt“ ({event.id}) übergangen")

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        """Undoing a creation withdraws the measure: it leaves lists, counts and the report,
        its number is free again, its history stays."""
        return {"measure": {"withdrawn": True}}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        status = Status(to_status).label if to_status else ""
        return f"Maßnahme angelegt{_stated_day(details)} ({status})"

    def problem(self, event: Event) -> Problem | None:
        if event.from_status is not None:
            return Problem("from_status", "gehört nicht zum Anlegen einer Maßnahme")
        if event.to_status != event.details["measure"]["status"]:
            return Problem("to_status", "muss dem Status der angelegten Maßnahme gleichen")
        return None


class MeasureEdited(Kind):
    kind = EventKind.MEASURE_EDITED
    details = MeasureEditedDetails

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        for name, (_old, new) in event.details["changes"].items():
            setattr(state, name, new)

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        return {"measure": {name: getattr(before, name) for name in event.details["changes"]}}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        return f"Geändert: {_labels(Measure, details.get('changes', {}))}"


class StatusChanged(Kind):
    kind = EventKind.STATUS_CHANGED
    details = StatusChangedDetails
    moves_status = True

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        current, target = Status(state.status), Status(event.to_status or state.status)
        if target == current:  # both sides made the same move: it stands once
            return ""
        details = event.details
        try:
            check_move(
                current,
                target,
                note=event.note,
                receiving_unit=details.get("receiving_unit", ""),
                reason=details.get("reason", ""),
                has_delay="delay" in details,
            )
        except KoordinatorError as error:
            return f"Stand „{current.label}“: {error}"
        return ""

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        _delay_effects(state, event, skipped)
        if event.to_status:
            state.status = event.to_status

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        details = event.details
        restore: dict[str, Any] = {"measure": {"status": before.status}}
        if "delay" in details:
            restore["delete_delays"] = [details["delay"]["id"]]
        if "resolved_delays" in details:
            restore["delays"] = _resolved_before(before, details["resolved_delays"])
        return restore

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        text = f"Status: {Status(from_status).label} → {Status(to_status).label}"  # type: ignore[arg-type]
        text += _stated_day(details)
        if "receiving_unit" in details:
            text += f" (an {details['receiving_unit']})"
        if "reason" in details:
            text += f" (Grund: {details['reason']})"
        if "delay" in details:
            text += f" (Ursache: {cause_label(details['delay']['cause'])})"
        if "resolved_delays" in details:
            text += " (Verzögerung behoben)"
        return text

    def problem(self, event: Event) -> Problem | None:
        if event.from_status is None or event.to_status is None:
            return Problem("", "ein Statuswechsel braucht „from_status“ und „to_status“")
        details = event.details
        try:
            # Checked against the event's own from_status, not the replayed status: after a
            # merge, a move may follow another side's move (see koordinator.core.replay).
            check_move(
                Status(event.from_status),
                Status(event.to_status),
                note=event.note,
                receiving_unit=details.get("receiving_unit", ""),
                reason=details.get("reason", ""),
                has_delay="delay" in details,
            )
        except KoordinatorError as error:
            return Problem("to_status", str(error))
        if "delay" in details and event.to_status != Status.DELAYED:
            return Problem("details.delay", "eine neue Verzögerung gehört zu „delayed“")
        return None


class MilestoneAdded(Kind):
    kind = EventKind.MILESTONE_ADDED
    details = MilestoneAddedDetails

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        milestone = from_payload(
            Milestone, event.details["milestone"], created_at=event.occurred_at
        )
        state.milestones[milestone.id] = milestone

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        return {"delete_milestones": [event.details["milestone"]["id"]]}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        milestone = details.get("milestone", {})
        due = f", fällig {german(milestone.get('due'))}" if milestone.get("due") else ""
        done = ", erreicht" if milestone.get("done") else ""
        return f"Meilenstein „{milestone.get('title', '')}“ angelegt{due}{done}"


class MilestoneCompleted(Kind):
    kind = EventKind.MILESTONE_COMPLETED
    details = MilestoneCompletedDetails

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        milestone = state.milestones.get(event.details["milestone_id"])
        if milestone is None:
            return _gone(MILESTONE, event.details["milestone_id"])
        if milestone.done:  # an earlier fact stays: the day it was first reached
            when = f" am {german(milestone.done_on)}" if milestone.done_on else ""
            return f"Meilenstein „{milestone.title}“ war schon erreicht{when}"
        return ""

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        details = event.details
        milestone = row(state.milestones, details["milestone_id"], event, skipped, MILESTONE)
        if milestone is not None:
            milestone.done = True
            milestone.done_on = details["done_on"]

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        milestone_id = event.details["milestone_id"]
        earlier = before.milestones.get(milestone_id)
        values = {"done": earlier.done, "done_on": earlier.done_on} if earlier else {}
        return {"milestones": {milestone_id: values or {"done": False, "done_on": None}}}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        when = f" am {german(details['done_on'])}" if details.get("done_on") else ""
        return f"Meilenstein „{details.get('title', '')}“ erreicht{when}"


class MilestoneEdited(Kind):
    kind = EventKind.MILESTONE_EDITED
    details = MilestoneEditedDetails

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        found = event.details["milestone_id"] in state.milestones
        return "" if found else _gone(MILESTONE, event.details["milestone_id"])

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        details = event.details
        milestone = row(state.milestones, details["milestone_id"], event, skipped, MILESTONE)
        if milestone is not None:
            for name, (_old, new) in details["changes"].items():
                setattr(milestone, name, new)

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        details = event.details
        earlier = before.milestones.get(details["milestone_id"])
        values = (
            {name: getattr(earlier, name) for name in details["changes"]}
            if earlier
            else _old_values(details["changes"])
        )
        return {"milestones": {details["milestone_id"]: values}}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        changed = _labels(Milestone, details.get("changes", {}))
        return f"Meilenstein „{details.get('title', '')}“ geändert: {changed}"


class MilestoneDeleted(Kind):
    """A mistaken milestone removed; its undo brings it back as it stood."""

    kind = EventKind.MILESTONE_DELETED
    details = MilestoneDeletedDetails

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        found = event.details["milestone_id"] in state.milestones
        return "" if found else _gone(MILESTONE, event.details["milestone_id"])

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        milestone_id = event.details["milestone_id"]
        if row(state.milestones, milestone_id, event, skipped, MILESTONE) is not None:
            del state.milestones[milestone_id]

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        milestone_id = event.details["milestone_id"]
        earlier = before.milestones.get(milestone_id)
        if earlier is None:  # the deletion met no milestone: there is nothing to bring back
            return {}
        values = {name: getattr(earlier, name) for name in restorable(Milestone)}
        return {"add_milestones": {milestone_id: values}}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        return f"Meilenstein „{details.get('title', '')}“ gelöscht"


class DelayLogged(Kind):
    kind = EventKind.DELAY_LOGGED
    details = DelayLoggedDetails

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        if state.status != Status.DELAYED:
            return f"eine Verzögerung gehört zu „Verzögert“, die Maßnahme ist „{Status(state.status).label}“"
        return ""

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        _delay_effects(state, event, skipped)

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        return {"delete_delays": [event.details["delay"]["id"]]}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        delay = details.get("delay", {})
        return f"Verzögerung erfasst (Ursache: {cause_label(delay.get('cause', ''))})"


class DelayResolved(Kind):
    kind = EventKind.DELAY_RESOLVED
    details = DelayResolvedDetails

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        # One resolved meanwhile (a move of the other side) is no conflict: both agree it
        # is over, and the earlier day stays.
        gone = [i for i in event.details["resolved_delays"] if i not in state.delays]
        return _gone(DELAY, gone[0]) if gone else ""

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        _delay_effects(state, event, skipped)

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        return {"delays": _resolved_before(before, event.details["resolved_delays"])}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        return f"Verzögerung behoben am {german(details.get('resolved_on'))}"


class DelayEdited(Kind):
    kind = EventKind.DELAY_EDITED
    details = DelayEditedDetails

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        delay = state.delays.get(event.details["delay_id"])
        if delay is None:
            return _gone(DELAY, event.details["delay_id"])
        if not delay.is_open:  # as the service: only an open delay is edited
            return f"die Verzögerung ist schon behoben ({german(delay.resolved_on)})"
        return ""

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        details = event.details
        delay = row(state.delays, details["delay_id"], event, skipped, DELAY)
        if delay is not None:
            for name, (_old, new) in details["changes"].items():
                setattr(delay, name, new)

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        details = event.details
        earlier = before.delays.get(details["delay_id"])
        values = (
            {name: getattr(earlier, name) for name in details["changes"]}
            if earlier
            else _old_values(details["changes"])
        )
        return {"delays": {details["delay_id"]: values}}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        return f"Verzögerung geändert: {_labels(Delay, details.get('changes', {}))}"


class MeasureRenumbered(Kind):
    """A measure gets another number: by a user (`renumber`), or by an import that met two
    measures with one number (the later claim moves on, see `replay.plan_merge`)."""

    kind = EventKind.MEASURE_RENUMBERED
    details = MeasureRenumberedDetails

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        set_number(state, event.details["number"])

    def inverse(self, event: Event, before: Measure) -> dict[str, Any]:
        return {"measure": {"number": before.number}}

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        return f"Nummer {details.get('previous', '')} → {details.get('number', '')}"

    def problem(self, event: Event) -> Problem | None:
        details = event.details
        if details["previous"] == details["number"]:
            return Problem("details.number", "ist dieselbe Nummer wie zuvor")
        return super().problem(event)


class ChangeUndone(Kind):
    kind = EventKind.CHANGE_UNDONE
    details = ChangeUndoneDetails
    moves_status = True
    undoable = False

    def conflict(self, state: Measure, event: Event, past: Past) -> str:
        undone = past.events.get(event.details.get("undone_event_id", ""))
        if undone is None or undone.id not in past.states:
            return "das rückgängig gemachte Ereignis steht nicht davor im Verlauf"
        if undone.id in past.conflicts:
            return "das rückgängig gemachte Ereignis wurde selbst nicht angewandt"
        # As the service refuses it (Catalogue.undo_last): someone else built on the change.
        later = list(past.events)[list(past.events).index(undone.id) + 1 :]
        for other in (past.events[i] for i in later if i not in past.conflicts):
            if other.author != event.author:
                return f"{other.author} hat die Maßnahme danach geändert"
        try:
            restore = inverse(undone, past.states[undone.id])
        except WorkflowError as error:
            return str(error)
        if "status" in restore.get("measure", {}) and state.status != undone.to_status:
            return (
                f"die Maßnahme ist inzwischen „{Status(state.status).label}“, nicht mehr "
                f"„{Status(undone.to_status or state.status).label}“"
            )
        for rows, key, what in (
            (state.milestones, "milestones", MILESTONE),
            (state.delays, "delays", DELAY),
        ):
            for row_id in [*restore.get(key, {}), *restore.get(f"delete_{key}", [])]:
                if row_id not in rows:
                    return _gone(what, row_id)
        for row_id in restore.get("add_milestones", {}):
            if row_id in state.milestones:
                return f"{MILESTONE} {row_id} gibt es schon"
        return ""

    def apply(self, state: Measure, event: Event, skipped: list[str], past: Past) -> None:
        """An undo's effect is the inverse of the event it undoes (`Kind.inverse`), derived
        here, never the operations a file writes beside it (the reader checks those agree);
        `conflict` has checked it applies."""
        undone = past.events[event.details["undone_event_id"]]
        apply_restore(state, event, inverse(undone, past.states[undone.id]), skipped)
        for delay_id in past.also_resolved.get(undone.id, ()):
            if delay_id in state.delays:
                state.delays[delay_id].resolved_on = None

    def describe(self, from_status: str | None, to_status: str | None, details: Any) -> str:
        return f"Rückgängig gemacht: {details.get('undone_summary', '')}"


KINDS: Mapping[str, Kind] = {
    kind.kind.value: kind
    for kind in (
        MeasureCreated(),
        MeasureEdited(),
        StatusChanged(),
        MilestoneAdded(),
        MilestoneCompleted(),
        MilestoneEdited(),
        MilestoneDeleted(),
        DelayLogged(),
        DelayResolved(),
        DelayEdited(),
        MeasureRenumbered(),
        ChangeUndone(),
    )
}


def describe(
    kind: str, from_status: str | None, to_status: str | None, details: dict[str, Any]
) -> str:
    """One German line saying what an event changed."""
    rules = KINDS.get(kind)
    return kind if rules is None else rules.describe(from_status, to_status, details)


def summary(event: Event) -> str:
    return describe(event.kind, event.from_status, event.to_status, event.details)


def event_day(event: Event) -> date:
    """The day an event's change happened, by which `report --stand` selects events: the
    `on` its details state (a loose one from its first day), else the local day it was
    recorded on."""
    stated = from_iso(event.details.get("on"))
    if stated is not None:
        return stated.first_day()
    return parse_timestamp(event.occurred_at).astimezone().date()


def _stated_day(details: Mapping[str, Any]) -> str:
    """The " am 03/2021" of an event that states the day it happened (`on`)."""
    return f" am {german(details['on'])}" if details.get("on") else ""


def apply(state: Measure, event: Event, skipped: list[str], past: Past) -> str:
    """Apply `event` to `state` by the rules of its kind (`Kind.apply`) if it can apply
    there; else leave `state` as it is and return why not (`Kind.conflict`)."""
    rules = KINDS[event.kind]
    reason = rules.conflict(state, event, past)
    if not reason:
        status = state.status
        rules.apply(state, event, skipped, past)
        if state.status != status and state.status != Status.DELAYED:
            resolved = _resolve_left_open(state, event)
            if resolved:
                past.also_resolved[event.id] = resolved
    return reason


def _resolve_left_open(state: Measure, event: Event) -> list[str]:
    """Only a delayed measure has open delays: a move (or an undo) away from "delayed"
    resolves those its database knew; this resolves one another database logged meanwhile
    too, on the day the move says (or the day it was recorded).  Returns their ids."""
    details = event.details
    day = details.get("resolved_on") or details.get("on") or event.occurred_at[:10]
    resolved = []
    for delay in state.delays.values():
        if delay.resolved_on is None:
            delay.resolved_on = day
            resolved.append(delay.id)
    return resolved


def apply_restore(
    state: Measure, event: Event, restore: Mapping[str, Any], skipped: list[str]
) -> None:
    """Apply an undo's state operations (`Kind.inverse`) to `state`."""
    for name, value in restore.get("measure", {}).items():
        if name == "number":
            set_number(state, value)
        else:
            setattr(state, name, value)
    targets: tuple[tuple[Mapping[str, Milestone | Delay], str, str], ...] = (
        (state.milestones, "milestones", MILESTONE),
        (state.delays, "delays", DELAY),
    )
    for rows, key, what in targets:
        for row_id, values in restore.get(key, {}).items():
            found = row(rows, row_id, event, skipped, what)
            for name, value in values.items() if found is not None else ():
                setattr(found, name, value)
    for row_id, values in restore.get("add_milestones", {}).items():
        if row_id in state.milestones:
            skipped.append(
                f"Maßnahme {event.number}: „{summary(event)}“ ({event.author}) übergangen – "
                f"{MILESTONE} {row_id} gibt es schon"
            )
        else:
            state.milestones[row_id] = Milestone(id=row_id, **values, created_at=event.occurred_at)
    for row_id in restore.get("delete_milestones", []):
        if row(state.milestones, row_id, event, skipped, MILESTONE) is not None:
            del state.milestones[row_id]
    for row_id in restore.get("delete_delays", []):
        if row(state.delays, row_id, event, skipped, DELAY) is not None:
            del state.delays[row_id]


def touched(restore: Any) -> Any:
    """What an undo's state operations (`Kind.inverse`) touch, without the values they
    write: fields, row ids and the rows they delete.  It depends on the undone event
    only; the values depend on what stood before it, which a merge can change."""
    if isinstance(restore, dict):
        return {key: touched(value) for key, value in restore.items()}
    return restore if isinstance(restore, list) else None


def inverse(event: Event, before: Measure) -> dict[str, Any]:
    """The state operations that undo `event` (`Kind.inverse`), `before` the measure as it
    stood before it in replay order; WorkflowError if it cannot be undone."""
    return KINDS[event.kind].inverse(event, before)


def set_number(state: Measure, number: str) -> None:
    """Give the measure `number`, and with it the number's field."""
    state.number = number
    state.field_code = int(number.partition(".")[0])


RowT = TypeVar("RowT", bound=Milestone | Delay)

MILESTONE = "Meilenstein"
DELAY = "Verzögerung"


def row(
    rows: Mapping[str, RowT], row_id: str, event: Event, skipped: list[str], what: str
) -> RowT | None:
    """The row `event` acts on; None, noted in `skipped`, if the state no longer has it."""
    found = rows.get(row_id)
    if found is None:
        skipped.append(
            f"Maßnahme {event.number}: „{summary(event)}“ ({event.author}) übergangen – "
            f"{what} {row_id} gibt es nicht mehr"
        )
    return found


def _gone(what: str, row_id: str) -> str:
    return f"{what} {row_id} gibt es hier nicht (mehr)"


def _delay_effects(state: Measure, event: Event, skipped: list[str]) -> None:
    """A new delay and resolved ones, as a status change or a delay event records them."""
    details = event.details
    if "delay" in details:
        delay = from_payload(
            Delay, details["delay"], resolved_on=None, created_at=event.occurred_at
        )
        state.delays[delay.id] = delay
    for delay_id in details.get("resolved_delays", []):
        found = row(state.delays, delay_id, event, skipped, DELAY)
        # An earlier fact stays: a delay someone resolved before (merged from another
        # database) keeps the day it was resolved on.
        if found is not None and found.resolved_on is None:
            found.resolved_on = details["resolved_on"]


def _old_values(changes: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    return {name: old for name, (old, _new) in changes.items()}


def _resolved_before(before: Measure, delay_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The delays' "resolved on" as they stood before (an earlier fact stays)."""
    return {
        delay_id: {
            "resolved_on": before.delays[delay_id].resolved_on
            if delay_id in before.delays
            else None
        }
        for delay_id in delay_ids
    }


def _labels(record_type: type, changes: Mapping[str, Any]) -> str:
    return ", ".join(label(record_type, name) for name in changes)
