"""Plain, immutable views of the catalogue that the CLI and the UI show.

They outlive the session that read them and carry no database state.  `to_json()` gives the
stable JSON shapes documented in docs/cli-json.md.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from koordinator.core import records
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


def search_key(text: str | None) -> str:
    """What a search text is compared as (blank: no search); casefolded, so that "ä" finds
    "Ä" (SQLite's lower() and LIKE fold ASCII only)."""
    return text.strip().casefold() if text else ""


def matches_search(
    key: str, *, texts: Iterable[str], status: Status, open_causes: Iterable[str] = ()
) -> bool:
    """The one rule of the text filter (the UI's `/`, any list's search): `key` (from
    `search_key`) is part of the measure's number, title, unit or note (`texts`), of its
    status as shown ("verzögert", "Planung"), or of an open delay's cause as shown
    ("Corona")."""
    if not key:
        return True
    shown = (*texts, status.label, *(cause_label(cause) for cause in open_causes))
    return any(key in value.casefold() for value in shown)


@functools.lru_cache(maxsize=4096)
def _period_is_past(due: str, today: date) -> bool:
    # Cached: thousands of milestones share a few hundred distinct due dates and one today.
    loose = from_iso(due)
    return loose is not None and loose.is_past(today)


def _json(record: Any) -> dict[str, Any]:
    """A record's own values under the files' names (`records.table`), statuses as codes."""
    return {key: _plain(value) for key, value in records.table(record).items()}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Status) else value


@dataclass
class MilestoneView(records.Milestone):
    """A milestone as the doors show it: the record, and whether it is overdue today."""

    overdue: bool = field(default=False, kw_only=True)

    def to_json(self) -> dict[str, Any]:
        return {**_json(self), "overdue": self.overdue}

    def describe(self) -> str:
        """One German line: "Pilotbetrieb (fällig 06/2021, überfällig)"."""
        if self.done:
            when = f"erreicht {german(self.done_on)}" if self.done_on else "erreicht"
        elif self.due:
            when = f"fällig {german(self.due)}" + (", überfällig" if self.overdue else "")
        else:
            when = "ohne Termin"
        return f"{self.title} ({when})"


@dataclass
class DelayView(records.Delay):
    """A delay as the doors show it."""

    def to_json(self) -> dict[str, Any]:
        return {**_json(self), "open": self.is_open}

    def describe(self) -> str:
        text = f"{cause_label(self.cause)}, seit {german(self.since)}"
        if self.until:
            text += f", voraussichtlich bis {german(self.until)}"
        text += f", behoben {german(self.resolved_on)}" if self.resolved_on else ", offen"
        return text


@dataclass(frozen=True)
class EventView(records.Event):
    """A history event as the doors show it: its statuses as `Status`, and its one German
    line (`history.describe`)."""

    from_status: Status | None
    to_status: Status | None
    summary: str = field(default="", kw_only=True)
    # Why a merge's replay did not apply it (German); "": it applied.
    conflict: str = field(default="", kw_only=True)

    @property
    def shown(self) -> str:
        """Its line in a history: the summary, and why it did not apply if it did not."""
        if self.conflict:
            return f"{self.summary} [Konflikt, nicht angewandt: {self.conflict}]"
        return self.summary

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "measure": self.number,
            "kind": self.kind,
            "occurred_at": self.occurred_at,
            "author": self.author,
            "from_status": _plain(self.from_status),
            "to_status": _plain(self.to_status),
            "summary": self.summary,
            "note": self.note,
            "details": self.details,
            "conflict": self.conflict or None,
        }


@dataclass
class MeasureView(records.Measure):
    """A measure as the lists show it: the record (without its rows), its status as
    `Status`, its next open milestone and how many delays are open."""

    status: Status
    next_milestone: MilestoneView | None = field(default=None, kw_only=True)
    open_delays: int = field(default=0, kw_only=True)

    def to_json(self) -> dict[str, Any]:
        values = _json(self)
        at = list(values).index("status") + 1  # the label beside its code
        items = list(values.items())
        items.insert(at, ("status_label", self.status.label))
        return {
            **dict(items),
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
