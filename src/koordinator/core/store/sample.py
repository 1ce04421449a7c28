"""The sample catalogue (Mannheim, December 2020) and how a database is filled from it.

`fill_sample` is deterministic: ids are UUIDv5 derived from the measure number and the
event's place, and timestamps come from the data file, so that every build (sample.db, a
new default database) has exactly the same content.

History of each measure as built here:
  1. "measure_created" on the day it entered the catalogue (2019-03-12, or 31 December of
     the year a new measure was identified), in status "In Planung";
  2. "status_changed" to the status of December 2020 (with the delay, receiving unit or
     reason), dated on the report's cut-off day, unless it is still "In Planung";
  3. one "milestone_added" per milestone the report names, on the cut-off day.
Rebuild the committed sample.db with `koordinator init --sample --db sample.db --overwrite`.
"""

from __future__ import annotations

import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from koordinator.core import records
from koordinator.core.dates import LooseDate, timestamp
from koordinator.core.history import EventKind
from koordinator.core.store.models import (
    Delay,
    FieldOfAction,
    HistoryEvent,
    Measure,
    Milestone,
    new_event,
)
from koordinator.core.workflow import Status, check_move

SAMPLE_FILE = "catalogue-2020-12.toml"
_NAMESPACE = uuid.UUID("5f0c2a3e-6f43-4c1e-9a57-6b6f6f7264e1")  # koordinator sample ids

STATUS_BASIS = {
    "stated": "Status im Bericht genannt",
    "inferred": "Status aus dem Berichtstext abgeleitet",
    "assumed": "Status angenommen (Bericht nennt nur Summen)",
}
NUMBER_BASIS = {"catalog": "Nummer laut Katalog 2019", "assumed": "Nummer angenommen"}


def load_sample() -> dict[str, Any]:
    text = resources.files("koordinator.core.data").joinpath(SAMPLE_FILE).read_text("utf-8")
    return tomllib.loads(text)


def _stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _moment(loose: str, *, seconds: int = 0) -> str:
    """A timestamp for a loose date from the report: its last day at 12:00 UTC, plus seconds."""
    day = LooseDate.parse(loose).last_day()
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(seconds=seconds)
    return timestamp(moment)


def basis_note(entry: dict[str, Any]) -> str:
    basis = (
        f"Grundlage: {STATUS_BASIS[entry['status_basis']]}; {NUMBER_BASIS[entry['number_basis']]}"
    )
    return f"{entry['note']} – {basis}" if entry["note"] else basis


def fill_fields_only(session: Session) -> None:
    """An empty catalogue: the strategy's four fields of action, no measures."""
    session.add_all(FieldOfAction(code=f["code"], name=f["name"]) for f in load_sample()["fields"])


def fill_sample(session: Session) -> None:
    """Fill an empty koordinator database with the sample catalogue."""
    data = load_sample()
    author = data["author"]
    as_of = data["as_of"]
    fill_fields_only(session)
    for entry in data["measures"]:
        number = entry["number"]
        field_code, sequence = (int(part) for part in number.split("."))
        created_at = _moment(entry["origin_date"])
        measure = Measure(
            uid=_stable_id(number, "created"),
            number=number,
            field_code=field_code,
            sequence=sequence,
            title=entry["title"],
            unit=entry["unit"],
            origin=entry["origin"],
            origin_date=entry["origin_date"],
            status=Status.PLANNING.value,
            note=basis_note(entry),
            revision=1,
            updated_at=created_at,
        )
        session.add(measure)
        session.flush()
        events = [
            new_event(
                measure,
                EventKind.MEASURE_CREATED,
                occurred_at=created_at,
                author=author,
                note="in den Maßnahmenkatalog aufgenommen",
                to_status=Status.PLANNING,
                details={"measure": records.payload(records.Measure, measure)},
                make_id=lambda number=number: _stable_id(number, "created"),
            )
        ]
        target = Status(entry["status"])
        if target != Status.PLANNING:
            events.append(_status_event(session, measure, entry, target, as_of, author))
        for index, milestone_entry in enumerate(entry.get("milestones", []), start=1):
            events.append(_milestone(session, measure, milestone_entry, index, as_of, author))
        session.add_all(events)
        measure.revision = len(events)
        measure.updated_at = max(event.occurred_at for event in events)


def _status_event(
    session: Session,
    measure: Measure,
    entry: dict[str, Any],
    target: Status,
    as_of: str,
    author: str,
) -> HistoryEvent:
    details: dict[str, Any] = {}
    note = entry.get("status_note", "") or "Stand laut Bericht V111/2021"
    occurred_at = _moment(as_of, seconds=1)  # after a new measure's creation on the same day
    if "delay" in entry:
        delay = Delay(
            id=_stable_id(measure.number, "delay", "1"),
            measure_id=measure.id,
            cause=entry["delay"]["cause"],
            since=entry["delay"]["since"],
            until=None,
            note=entry["delay"]["note"],
            resolved_on=None,
            created_at=occurred_at,
        )
        session.add(delay)
        details["delay"] = records.payload(records.Delay, delay)
    if "receiving_unit" in entry:
        details["receiving_unit"] = entry["receiving_unit"]
    if "reason" in entry:
        details["reason"] = entry["reason"]
    # The sample history must itself obey the workflow (snapshots will check imported events).
    check_move(
        Status.PLANNING,
        target,
        receiving_unit=details.get("receiving_unit", ""),
        reason=details.get("reason", ""),
        has_delay="delay" in details,
    )
    measure.status = target.value
    return new_event(
        measure,
        EventKind.STATUS_CHANGED,
        occurred_at=occurred_at,
        author=author,
        note=note,
        from_status=Status.PLANNING,
        to_status=target,
        details=details,
        make_id=lambda: _stable_id(measure.number, "status"),
    )


def _milestone(
    session: Session,
    measure: Measure,
    entry: dict[str, Any],
    index: int,
    as_of: str,
    author: str,
) -> HistoryEvent:
    occurred_at = _moment(as_of, seconds=1 + index)
    milestone = Milestone(
        id=_stable_id(measure.number, "milestone", str(index)),
        measure_id=measure.id,
        title=entry["title"],
        due=entry.get("due"),
        done=entry["done"],
        done_on=entry.get("done_on"),
        note=entry.get("note", ""),
        created_at=occurred_at,
    )
    session.add(milestone)
    return new_event(
        measure,
        EventKind.MILESTONE_ADDED,
        occurred_at=occurred_at,
        author=author,
        note="laut Bericht V111/2021",
        details={"milestone": records.payload(records.Milestone, milestone)},
        make_id=lambda: _stable_id(measure.number, "milestone-added", str(index)),
    )
