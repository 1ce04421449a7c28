"""Build a realistic synthetic koordinator database, fast and deterministically.

    python benchmarks/generate.py --measures 10000 -o /tmp/k10k.db [--seed 1] [--overwrite]

The catalogue is spread over the four fields of action like the real one (16 / 8 / 15 / 10;
beyond 999 measures in a field, over more groups of four alike),
every measure has a unique, searchable title ("Maßnahme M004711: Digitale Bauakte für das
Bürgeramt"), a responsible unit ("FB 12", "Amt 18", ...), ~3 milestones, ~10 history events
and, for about a third of them, one or two delays -- so 10,000 measures give 100,000+ events.

The history is not decoration: it is exactly what `koordinator.core.replay` needs to derive
the stored state (status, revision, updated_at, every milestone and delay row), with the same
`details` shapes the Catalogue writes, status moves the workflow allows, and timestamps of 27
characters, UTC, strictly increasing per measure.  A generated database therefore passes the
snapshot export checks without a "history mismatch" and survives export -> import.

Rows are written with SQLAlchemy's bulk INSERT (`session.execute(insert(Model), rows)`) into a
file made by `koordinator.core.store.sqlite_store.create_database`, so a 10,000-measure file takes seconds.
Everything random comes from one `random.Random(seed)`: the same seed gives the same content.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from koordinator.core.numbers import MAX_SEQUENCE
from koordinator.core.store.models import Delay, FieldOfAction, HistoryEvent, Measure, Milestone
from koordinator.core.store.sample import fill_fields_only
from koordinator.core.store.sqlite_store import create_database
from koordinator.core.workflow import RESOLVES_DELAYS, Status, check_move

# The real catalogue's fields hold 16 / 8 / 15 / 10 of 49 measures.
FIELD_WEIGHTS = {1: 16, 2: 8, 3: 15, 4: 10}
# Final statuses roughly as in the report of December 2020 (9 / 20 / 9 / 8 / 2 / 1 of 49).
STATUS_WEIGHTS = {
    Status.ESTABLISHED: 9,
    Status.ON_SCHEDULE: 20,
    Status.DELAYED: 9,
    Status.PLANNING: 8,
    Status.HANDED_OVER: 2,
    Status.DROPPED: 1,
}
# Naive datetimes in UTC throughout (isoformat is much faster than strftime).
CATALOGUE_DAY = datetime(2019, 3, 12, 9, 0)  # the catalogue was adopted
END = datetime(2025, 6, 30, 18, 0)  # no generated event is later than this

ADJECTIVES = (
    "Digitale",
    "Elektronische",
    "Mobile",
    "Zentrale",
    "Intelligente",
    "Automatisierte",
    "Barrierefreie",
    "Offene",
    "Sichere",
    "Vernetzte",
    "Medienbruchfreie",
    "Papierlose",
)
NOUNS = (
    "Antragsstrecke",
    "Aktenführung",
    "Terminvergabe",
    "Bürgerplattform",
    "Datenplattform",
    "Sensorik",
    "Rechnungsbearbeitung",
    "Beteiligungsplattform",
    "Schulinfrastruktur",
    "Verkehrssteuerung",
    "Parkraumbewirtschaftung",
    "Ratsinformation",
    "Personalverwaltung",
    "Bauakte",
    "Bezahlfunktion",
    "Geodateninfrastruktur",
    "Arbeitsplatzausstattung",
    "Videokonferenztechnik",
    "Posteingangsbearbeitung",
    "Servicekonto",
    "Wissensdatenbank",
    "Fördermittelverwaltung",
)
CONTEXTS = (
    "für das Bürgeramt",
    "im Baurecht",
    "der Stadtbibliothek",
    "an Schulen",
    "im Sozialamt",
    "für Unternehmen",
    "im Ordnungsdienst",
    "der Feuerwehr",
    "im Jugendamt",
    "für Kitas",
    "in der Kfz-Zulassung",
    "im Standesamt",
    "der Stadtwerke",
    "im Gesundheitsamt",
    "für den Gemeinderat",
    "im Rechnungswesen",
)
UNITS = (
    "FB 12",
    "FB 12",
    "FB 11",
    "FB 15",
    "FB 20",
    "FB 25",
    "FB 31",
    "FB 37",
    "FB 40",
    "FB 47",
    "FB 50",
    "FB 52",
    "FB 58",
    "FB 61",
    "FB 68",
    "Amt 18",
    "SHM²",
    "Eigenbetrieb Kita",
)
RECEIVING_UNITS = ("FB 11", "FB 20", "FB 40", "FB 50", "FB 61")
AUTHORS = (
    "anna.schmidt",
    "bernd.keller",
    "carla.yilmaz",
    "david.nowak",
    "elif.demir",
    "frank.huber",
    "fb12.koordination",
)
MILESTONE_TITLES = (
    "Anforderungsanalyse",
    "Konzept abgestimmt",
    "Beschluss im Ausschuss",
    "Ausschreibung",
    "Vergabe",
    "Pilotbetrieb",
    "Schulung der Mitarbeitenden",
    "Rollout Stufe 1",
    "Rollout Stufe 2",
    "Go-live",
    "Evaluation",
    "Datenschutz-Folgenabschätzung",
)
DELAY_CAUSES = (
    "corona",
    "corona",
    "corona",
    "corona",
    "Personalmangel",
    "Lieferengpass Hardware",
    "Ausschreibung verzögert",
    "Datenschutzprüfung",
)
DELAY_NOTES = ("", "", "Kontaktbeschränkungen", "Homeoffice-Umstellung hatte Vorrang", "")
DROP_REASONS = (
    "nicht realisierbare Anforderungen",
    "durch eine Landeslösung ersetzt",
    "Wirtschaftlichkeit nicht gegeben",
    "Priorität im Lenkungskreis gesenkt",
)
STATUS_NOTES = ("", "", "", "laut Lenkungskreis", "Projektstart erfolgt", "Stand Quartalsbericht")
NOTE_EDITS = (
    "Abstimmung mit dem Personalrat läuft",
    "Fördermittel beantragt",
    "Schnittstelle zum Fachverfahren offen",
    "Stand: Lenkungskreis",
    "Pilotdienststelle benannt",
)


@dataclass
class Counts:
    measures: int = 0
    events: int = 0
    milestones: int = 0
    delays: int = 0
    by_field: dict[int, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)


def _stamp(moment: datetime) -> str:
    """The stored form (27 characters, UTC); `moment` is a naive UTC datetime."""
    return moment.isoformat(timespec="microseconds") + "Z"


def _loose(day: date, precision: int) -> str:
    if precision == 1:
        return f"{day.year:04d}"
    if precision == 2:
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


class _Builder:
    """Plans and writes one measure after another; all randomness from one generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counts = Counts()
        self.measures: list[dict[str, Any]] = []
        self.milestones: list[dict[str, Any]] = []
        self.delays: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def uid(self) -> str:
        """A random (version 4) UUID from the seeded generator."""
        digits = f"{self.rng.getrandbits(122):031x}"
        variant = "89ab"[int(digits[15], 16) & 3]
        return (
            f"{digits[:8]}-{digits[8:12]}-4{digits[12:15]}-{variant}{digits[16:19]}-{digits[19:]}"
        )

    # --- planning: which changes, in which order --------------------------------------------

    def plan(self, target: Status, *, conflict: bool = False) -> list[tuple[Any, ...]]:
        """The actions after "measure_created", as (kind, ...) tuples, obeying the workflow.

        `conflict`: the measure went through a merge of two snapshots (see _merged_conflict).
        """
        rng = self.rng
        path: list[tuple[Any, ...]] = []

        def delay_episode(back_to: Status) -> None:
            path.append(("status", Status.DELAYED))
            if rng.random() < 0.25:
                path.append(("delay_logged",))
            path.append(("status", back_to))

        if target == Status.PLANNING:
            if rng.random() < 0.1:
                path += [("status", Status.DROPPED), ("status", Status.PLANNING)]
        elif target == Status.DELAYED:
            if rng.random() < 0.8:
                path.append(("status", Status.ON_SCHEDULE))
            path.append(("status", Status.DELAYED))
            if rng.random() < 0.3:
                path.append(("delay_logged",))
        else:
            if target != Status.DROPPED or rng.random() < 0.6:
                path.append(("status", Status.ON_SCHEDULE))
            if path and rng.random() < 0.45:
                delay_episode(Status.ON_SCHEDULE)
            if target == Status.ESTABLISHED:
                if conflict or rng.random() < 0.02:
                    # Two coordinators at once, merged: one delayed the measure, the other
                    # established it without seeing the delay; later someone resolved it.
                    path.append(("merged_conflict",))
                else:
                    path.append(("status", Status.ESTABLISHED))
            elif target == Status.HANDED_OVER:
                if rng.random() < 0.5:
                    path.append(("status", Status.ESTABLISHED))
                path.append(("status", Status.HANDED_OVER))
            elif target == Status.DROPPED:
                path.append(("status", Status.DROPPED))
        # Milestones: added between the moves, some reached later, a few added as reached.
        actions = list(path)
        open_count = 0
        for _ in range(rng.choice((2, 3, 3, 3, 4, 4))):
            done = rng.random() < 0.15
            position = rng.randint(0, len(actions))
            actions.insert(position, ("milestone_added", done))
        # Completions go after some open milestone's addition: walk and insert.
        result: list[tuple[Any, ...]] = []
        for action in actions:
            result.append(action)
            if action[0] == "milestone_added" and not action[1]:
                open_count += 1
            if open_count and rng.random() < 0.6:
                result.append(("milestone_completed",))
                open_count -= 1
        for _ in range(rng.choice((0, 1, 2, 2, 2, 3, 3))):
            result.insert(rng.randint(0, len(result)), ("measure_edited",))
        return result

    # --- writing ---------------------------------------------------------------------------

    def measure(self, measure_id: int, field_code: int, sequence: int, serial: int) -> None:
        rng = self.rng
        target = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        # One measure in 50 (and a few more by chance) carries a merge conflict, so that even
        # a small database has every kind of event the Catalogue and an import write.
        conflict = serial % 50 == 7
        actions = self.plan(Status.ESTABLISHED if conflict else target, conflict=conflict)
        if rng.random() < 0.7:
            origin, created = "catalog", CATALOGUE_DAY + timedelta(seconds=serial)
            origin_date = "2019-03-12"
        else:
            origin = "added"
            created = CATALOGUE_DAY + timedelta(days=rng.randint(60, 4 * 365), seconds=serial)
            origin_date = _loose(created.date(), rng.choice((1, 3, 3)))
        # The history spreads over a random span up to END; distinct seconds keep it strict.
        span = int((END - created).total_seconds())
        span = rng.randint(min(span, 120 * 86400), span)
        offsets = sorted(rng.sample(range(1, span), len(actions)))
        moments = [created] + [
            created + timedelta(seconds=offset, microseconds=rng.randrange(900_000))
            for offset in offsets
        ]
        number = f"{field_code}.{sequence}"
        title = (
            f"Maßnahme M{serial:06d}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} "
            f"{rng.choice(CONTEXTS)}"
        )
        state: dict[str, Any] = {
            "id": measure_id,
            "number": number,
            "field_code": field_code,
            "sequence": sequence,
            "title": title,
            "unit": rng.choice(UNITS),
            "origin": origin,
            "origin_date": origin_date,
            "status": Status.PLANNING.value,
            "note": "Synthetische Testdaten (benchmarks/generate.py)",
        }
        payload = {
            "number": number,
            "field": field_code,
            "title": title,
            "unit": state["unit"],
            "origin": origin,
            "origin_date": origin_date,
            "status": state["status"],
            "note": state["note"],
        }
        self._event(
            state,
            "measure_created",
            moments[0],
            note="in den Maßnahmenkatalog aufgenommen",
            to_status=Status.PLANNING.value,
            details={"measure": payload},
        )
        milestones: list[dict[str, Any]] = []
        delays: list[dict[str, Any]] = []
        first_event = len(self.events) - 1
        state["uid"] = self.events[first_event]["id"]  # a measure is its creation's id
        for action, moment in zip(actions, moments[1:], strict=True):
            self._apply(state, milestones, delays, action, moment)
        # Every event after the creation raised the revision by one (Catalogue._record).
        state["revision"] = len(self.events) - first_event
        state["updated_at"] = self.events[-1]["occurred_at"]
        self.measures.append(state)
        self.milestones += milestones
        self.delays += delays
        counts = self.counts
        counts.measures += 1
        counts.milestones += len(milestones)
        counts.delays += len(delays)
        counts.by_field[field_code] = counts.by_field.get(field_code, 0) + 1
        counts.by_status[state["status"]] = counts.by_status.get(state["status"], 0) + 1

    def _event(
        self,
        state: dict[str, Any],
        kind: str,
        moment: datetime,
        *,
        note: str = "",
        from_status: str | None = None,
        to_status: str | None = None,
        details: dict[str, Any] | None = None,
        author: str | None = None,
    ) -> None:
        self.events.append(
            {
                "id": self.uid(),
                "measure_id": state["id"],
                "kind": kind,
                "occurred_at": _stamp(moment),
                "author": author or self.rng.choice(AUTHORS),
                "note": note,
                "from_status": from_status,
                "to_status": to_status,
                "details": details or {},
            }
        )
        self.counts.events += 1
        self.counts.by_kind[kind] = self.counts.by_kind.get(kind, 0) + 1

    def _new_delay(self, state: dict[str, Any], moment: datetime) -> dict[str, Any]:
        rng = self.rng
        day = moment.date()
        since_day = day - timedelta(days=rng.randint(0, 60))
        since = _loose(since_day, rng.choice((2, 2, 3)))
        until = None
        if rng.random() < 0.6:
            until = _loose(_add_months(since_day, rng.randint(3, 12)), rng.choice((1, 2, 2)))
        return {
            "id": self.uid(),
            "measure_id": state["id"],
            "cause": rng.choice(DELAY_CAUSES),
            "since": since,
            "until": until,
            "note": rng.choice(DELAY_NOTES),
            "resolved_on": None,
            "created_at": _stamp(moment),
        }

    @staticmethod
    def _delay_payload(row: dict[str, Any]) -> dict[str, Any]:
        return {name: row[name] for name in ("id", "cause", "since", "until", "note")}

    def _apply(
        self,
        state: dict[str, Any],
        milestones: list[dict[str, Any]],
        delays: list[dict[str, Any]],
        action: tuple[Any, ...],
        moment: datetime,
    ) -> None:
        rng = self.rng
        day = moment.date()
        kind = action[0]
        if kind == "status":
            self._move(state, delays, Status(action[1]), moment)
        elif kind == "merged_conflict":
            self._merged_conflict(state, delays, moment)
        elif kind == "delay_logged":
            row = self._new_delay(state, moment)
            delays.append(row)
            self._event(state, kind, moment, details={"delay": self._delay_payload(row)})
        elif kind == "milestone_added":
            done = bool(action[1])
            due = _loose(_add_months(day, rng.randint(2, 18)), rng.choice((1, 2, 2, 3)))
            row = {
                "id": self.uid(),
                "measure_id": state["id"],
                "title": rng.choice(MILESTONE_TITLES),
                "due": None if done and rng.random() < 0.5 else due,
                "done": done,
                "done_on": _loose(day - timedelta(days=rng.randint(0, 90)), 2) if done else None,
                "note": rng.choice(("", "", "", "laut Projektplan", "mit Fachbereich abgestimmt")),
                "created_at": _stamp(moment),
            }
            milestones.append(row)
            payload = {
                name: row[name] for name in ("id", "title", "due", "done", "done_on", "note")
            }
            self._event(state, kind, moment, details={"milestone": payload})
        elif kind == "milestone_completed":
            row = next(m for m in milestones if not m["done"])
            row["done"] = True
            row["done_on"] = _loose(day, rng.choice((2, 3, 3)))
            self._event(
                state,
                kind,
                moment,
                details={
                    "milestone_id": row["id"],
                    "title": row["title"],
                    "done_on": row["done_on"],
                },
            )
        elif kind == "measure_edited":
            name = rng.choice(("note", "note", "unit"))
            old = state[name]
            new = rng.choice(NOTE_EDITS) if name == "note" else rng.choice(UNITS)
            if new == old:
                new = f"{new} (aktualisiert)" if name == "note" else f"{new} / FB 12"
            state[name] = new
            self._event(state, kind, moment, details={"changes": {name: [old, new]}})
        else:  # pragma: no cover - a planning mistake
            raise ValueError(kind)

    def _move(
        self, state: dict[str, Any], delays: list[dict[str, Any]], target: Status, moment: datetime
    ) -> None:
        rng = self.rng
        current = Status(state["status"])
        details: dict[str, Any] = {}
        note = rng.choice(STATUS_NOTES)
        if current.is_final:
            note = "neuer Anlauf mit Fördermitteln"
        if target == Status.HANDED_OVER:
            details["receiving_unit"] = rng.choice(RECEIVING_UNITS)
        if target == Status.DROPPED:
            details["reason"] = rng.choice(DROP_REASONS)
        if target == Status.DELAYED:
            row = self._new_delay(state, moment)
            delays.append(row)
            details["delay"] = self._delay_payload(row)
        if target in RESOLVES_DELAYS:
            details.update(self._resolve(delays, moment))
        check_move(
            current,
            target,
            note=note,
            receiving_unit=details.get("receiving_unit", ""),
            reason=details.get("reason", ""),
            has_delay="delay" in details,
        )
        state["status"] = target.value
        self._event(
            state,
            "status_changed",
            moment,
            note=note,
            from_status=current.value,
            to_status=target.value,
            details=details,
        )

    @staticmethod
    def _resolve(delays: list[dict[str, Any]], moment: datetime) -> dict[str, Any]:
        open_delays = sorted((d for d in delays if d["resolved_on"] is None), key=lambda d: d["id"])
        if not open_delays:
            return {}
        resolved_on = moment.date().isoformat()
        for row in open_delays:
            row["resolved_on"] = resolved_on
        return {"resolved_delays": [d["id"] for d in open_delays], "resolved_on": resolved_on}

    def _merged_conflict(
        self, state: dict[str, Any], delays: list[dict[str, Any]], moment: datetime
    ) -> None:
        """A merge of two coordinators' snapshots: A delayed, B established (from the status
        both had seen), then the delay left open by the merge is resolved on its own."""
        before = Status(state["status"])
        first, second = self.rng.sample(AUTHORS, 2)
        row = self._new_delay(state, moment)
        delays.append(row)
        self._event(
            state,
            "status_changed",
            moment,
            from_status=before.value,
            to_status=Status.DELAYED.value,
            details={"delay": self._delay_payload(row)},
            author=first,
        )
        check_move(before, Status.ESTABLISHED)
        self._event(
            state,
            "status_changed",
            moment + timedelta(milliseconds=1),
            note="Produktivstart",
            from_status=before.value,
            to_status=Status.ESTABLISHED.value,
            author=second,
        )
        state["status"] = Status.ESTABLISHED.value
        self._event(
            state,
            "delay_resolved",
            moment + timedelta(milliseconds=2),
            note="nach Zusammenführung der Snapshots",
            details=self._resolve(delays, moment),
            author=second,
        )


def _split(total: int) -> list[tuple[int, int]]:
    """(field_code, how many) for `total` measures, in the real catalogue's proportions.

    A field's sequence stops at MAX_SEQUENCE, so a large catalogue is spread over as many
    groups of four fields as it needs (fields 5-8 repeat the proportions of 1-4, and so on).
    """
    weight_sum = sum(FIELD_WEIGHTS.values())
    sizes = {code: total * weight // weight_sum for code, weight in FIELD_WEIGHTS.items()}
    for code in list(FIELD_WEIGHTS)[: total - sum(sizes.values())]:
        sizes[code] += 1
    groups = max(-(-size // MAX_SEQUENCE) for size in sizes.values())
    result: list[tuple[int, int]] = []
    for group in range(groups):
        for index, (code, size) in enumerate(sizes.items()):
            share = size // groups + (1 if group < size % groups else 0)
            result.append((group * len(FIELD_WEIGHTS) + index + 1 if group else code, share))
    return [(code, size) for code, size in result if size]


def _extra_fields(measures: int) -> list[FieldOfAction]:
    """The fields beyond the strategy's four that `_split` needs for `measures`."""
    return [
        FieldOfAction(code=code, name=f"Handlungsfeld {code} (synthetisch)")
        for code, _ in _split(measures)
        if code not in FIELD_WEIGHTS
    ]


def build(measures: int, seed: int = 1) -> _Builder:
    """Plan all rows in memory (no database yet)."""
    builder = _Builder(random.Random(seed))
    serial = 0
    for field_code, size in _split(measures):
        for sequence in range(1, size + 1):
            serial += 1
            builder.measure(serial, field_code, sequence, serial)
    return builder


def filler(measures: int, seed: int = 1, counts: Counts | None = None) -> Callable[[Session], None]:
    """A `fill` for `create_database`: the four fields, then `measures` synthetic measures."""

    def fill(session: Session) -> None:
        builder = build(measures, seed)
        # A page cache that holds the whole file: the random UUID keys would thrash the default.
        session.execute(text("PRAGMA cache_size = -262144"))
        fill_fields_only(session)
        session.add_all(_extra_fields(measures))
        session.flush()
        chunk = 20_000
        for model, rows in (
            (Measure, builder.measures),
            (Milestone, builder.milestones),
            (Delay, builder.delays),
            (HistoryEvent, builder.events),
        ):
            for start in range(0, len(rows), chunk):
                session.execute(
                    insert(model).execution_options(render_nulls=True), rows[start : start + chunk]
                )
        if counts is not None:
            counts.__dict__.update(builder.counts.__dict__)

    return fill


def generate(path: Path, measures: int, *, seed: int = 1, overwrite: bool = False) -> Counts:
    """Create the database file at `path`; returns what it holds."""
    counts = Counts()
    create_database(path, fill=filler(measures, seed, counts), overwrite=overwrite)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measures", type=int, default=1000, help="how many measures")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the database file")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    if args.measures < 1:
        parser.error("--measures must be at least 1")
    started = time.perf_counter()
    try:
        counts = generate(args.output, args.measures, seed=args.seed, overwrite=args.overwrite)
    except FileExistsError:
        print(f"{args.output}: exists (use --overwrite)", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(
        f"{args.output}: {counts.measures} measures, {counts.events} events, "
        f"{counts.milestones} milestones, {counts.delays} delays in {seconds:.1f} s"
    )
    print("  by field:  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.by_field.items())))
    print("  by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.by_status.items())))
    print("  by kind:   " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.by_kind.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
