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
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from koordinator.core.dates import german
from koordinator.core.errors import InputError
from koordinator.core.paths import ENV_USER
from koordinator.core.text import text_problem
from koordinator.core.workflow import Status, cause_label


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


FIELD_LABELS = {"title": "Titel", "unit": "Verantwortlich", "note": "Notiz", "due": "Termin"}

_TEXT_LABELS = FIELD_LABELS | {
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


def default_author(environ: dict[str, str] | None = None) -> str:
    """`KOORDINATOR_USER`, else the operating-system user."""
    environ = dict(os.environ) if environ is None else environ
    name = environ.get(ENV_USER, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unbekannt"


def new_event_id() -> str:
    return str(uuid.uuid4())


def event_values(
    measure: Any,
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
    """The column values of a new event of `measure` (a Measure or a row with its id and
    number), after its texts were checked: an InputError names the measure and the field."""
    for key, text in _new_texts({"author": author, "note": note, **(details or {})}):
        problem = text_problem(text, multiline=key in MULTILINE_KEYS)
        if problem:
            label = _TEXT_LABELS.get(key, key)
            raise InputError(f"Maßnahme {measure.number}: {label}: {problem}")
    return {
        "id": make_id(),
        "measure_id": measure.id,
        "kind": kind.value,
        "occurred_at": occurred_at,
        "author": author,
        "note": note.strip(),
        "from_status": from_status.value if from_status else None,
        "to_status": to_status.value if to_status else None,
        "details": details or {},
    }


def describe(
    kind: str, from_status: str | None, to_status: str | None, details: dict[str, Any]
) -> str:
    """One German line saying what an event changed."""
    match kind:
        case EventKind.MEASURE_CREATED:
            status = Status(to_status).label if to_status else ""
            return f"Maßnahme angelegt ({status})"
        case EventKind.MEASURE_EDITED:
            changed = ", ".join(FIELD_LABELS.get(name, name) for name in details.get("changes", {}))
            return f"Geändert: {changed}"
        case EventKind.STATUS_CHANGED:
            text = f"Status: {Status(from_status).label} → {Status(to_status).label}"  # type: ignore[arg-type]
            if "receiving_unit" in details:
                text += f" (an {details['receiving_unit']})"
            if "reason" in details:
                text += f" (Grund: {details['reason']})"
            if "delay" in details:
                text += f" (Ursache: {cause_label(details['delay']['cause'])})"
            if "resolved_delays" in details:
                text += " (Verzögerung behoben)"
            return text
        case EventKind.MILESTONE_ADDED:
            milestone = details.get("milestone", {})
            due = f", fällig {german(milestone.get('due'))}" if milestone.get("due") else ""
            done = ", erreicht" if milestone.get("done") else ""
            return f"Meilenstein „{milestone.get('title', '')}“ angelegt{due}{done}"
        case EventKind.MILESTONE_COMPLETED:
            when = f" am {german(details['done_on'])}" if details.get("done_on") else ""
            return f"Meilenstein „{details.get('title', '')}“ erreicht{when}"
        case EventKind.MILESTONE_EDITED:
            changed = ", ".join(FIELD_LABELS.get(name, name) for name in details.get("changes", {}))
            return f"Meilenstein „{details.get('title', '')}“ geändert: {changed}"
        case EventKind.DELAY_LOGGED:
            delay = details.get("delay", {})
            return f"Verzögerung erfasst (Ursache: {cause_label(delay.get('cause', ''))})"
        case EventKind.DELAY_RESOLVED:
            return f"Verzögerung behoben am {german(details.get('resolved_on'))}"
        case EventKind.CHANGE_UNDONE:
            return f"Rückgängig gemacht: {details.get('undone_summary', '')}"
    return kind
