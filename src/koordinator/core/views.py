"""Plain, immutable views of the catalogue that the CLI and the UI show.

They outlive the session that read them and carry no database state.  `to_json()` gives the
stable JSON shapes documented in docs/cli-json.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from koordinator.core.dates import from_iso, german
from koordinator.core.workflow import Status, cause_label


@dataclass(frozen=True)
class FieldView:
    code: int
    name: str
    measure_count: int

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "measures": self.measure_count}


def is_overdue(due: str | None, done: bool, today: date) -> bool:
    """The one rule of "overdue": an open milestone whose whole due period lies before `today`.

    `due` is the stored loose ISO date: "2021" is overdue from 2022-01-01 on, "2021-06" from
    2021-07-01, "2021-06-30" from 2021-07-01; a done or undated milestone never is.  The list
    views, the report, the export's checks and the snapshot diff all ask this.
    """
    return not done and bool(due) and _period_is_past(due, today)


@functools.lru_cache(maxsize=4096)
def _period_is_past(due: str, today: date) -> bool:
    # Cached: thousands of milestones share a few hundred distinct due dates and one today.
    loose = from_iso(due)
    return loose is not None and loose.is_past(today)


@dataclass(frozen=True)
class MilestoneView:
    id: str
    title: str
    due: str | None  # loose ISO date
    done: bool
    done_on: str | None
    note: str
    overdue: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "due": self.due,
            "done": self.done,
            "done_on": self.done_on,
            "overdue": self.overdue,
            "note": self.note,
        }

    def describe(self) -> str:
        """One German line: "Pilotbetrieb (fällig 06/2021, überfällig)"."""
        if self.done:
            when = f"erreicht {german(self.done_on)}" if self.done_on else "erreicht"
        elif self.due:
            when = f"fällig {german(self.due)}" + (", überfällig" if self.overdue else "")
        else:
            when = "ohne Termin"
        return f"{self.title} ({when})"


@dataclass(frozen=True)
class DelayView:
    id: str
    cause: str
    since: str
    until: str | None
    note: str
    resolved_on: str | None

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cause": self.cause,
            "since": self.since,
            "until": self.until,
            "resolved_on": self.resolved_on,
            "open": self.is_open,
            "note": self.note,
        }

    def describe(self) -> str:
        text = f"{cause_label(self.cause)}, seit {german(self.since)}"
        if self.until:
            text += f", voraussichtlich bis {german(self.until)}"
        text += f", behoben {german(self.resolved_on)}" if self.resolved_on else ", offen"
        return text


@dataclass(frozen=True)
class EventView:
    id: str
    number: str
    kind: str
    occurred_at: str  # UTC timestamp
    author: str
    note: str
    from_status: Status | None
    to_status: Status | None
    details: dict[str, Any]
    summary: str  # one German line, see history.describe

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "measure": self.number,
            "kind": self.kind,
            "occurred_at": self.occurred_at,
            "author": self.author,
            "from_status": self.from_status.value if self.from_status else None,
            "to_status": self.to_status.value if self.to_status else None,
            "summary": self.summary,
            "note": self.note,
            "details": self.details,
        }


@dataclass(frozen=True)
class MeasureView:
    number: str
    field_code: int
    title: str
    unit: str
    origin: str  # 'catalog' or 'added'
    origin_date: str
    status: Status
    note: str
    revision: int
    updated_at: str
    next_milestone: MilestoneView | None
    open_delays: int

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "field": self.field_code,
            "title": self.title,
            "unit": self.unit,
            "origin": self.origin,
            "origin_date": self.origin_date,
            "status": self.status.value,
            "status_label": self.status.label,
            "note": self.note,
            "revision": self.revision,
            "updated_at": self.updated_at,
            "next_milestone": self.next_milestone.to_json() if self.next_milestone else None,
            "open_delays": self.open_delays,
        }


@dataclass(frozen=True)
class MeasureDetail:
    measure: MeasureView
    milestones: tuple[MilestoneView, ...] = field(default_factory=tuple)
    delays: tuple[DelayView, ...] = field(default_factory=tuple)
    history: tuple[EventView, ...] = field(default_factory=tuple)  # newest first

    def to_json(self) -> dict[str, Any]:
        return {
            **self.measure.to_json(),
            "milestones": [milestone.to_json() for milestone in self.milestones],
            "delays": [delay.to_json() for delay in self.delays],
            "history": [event.to_json() for event in self.history],
        }
