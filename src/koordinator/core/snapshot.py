"""The TOML snapshot: what a coordinator hands to FB 12, and what FB 12 combines.

* `read_database` takes the whole catalogue in one read transaction as a `Snapshot`;
  `dumps` writes it as TOML 1.0 (tomli-w), deterministically: the same database state gives
  the same bytes apart from `exported_at`; `koordinator.core.files.write_text` writes it to
  the file the user chose.
* `check` lists what a coordinator should look at before handing a snapshot on (delays that
  contradict the status, overdue milestones, measures nobody touched for months, a state
  that does not match its own history).
* `loads` / `load` (from `koordinator.core.snapshot_reader`) read a snapshot back and
  validate all of it; every problem is a `SnapshotError` naming FILE:LINE.
* `import_snapshots` merges snapshots into a database, all or nothing, through
  `koordinator.core.replay`.

The `Snapshot` data itself is in `koordinator.core.snapshot_format`.  The format is
documented key by key in docs/snapshot-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import tomli_w

from koordinator.core import replay
from koordinator.core.cycles import no_cycle_collection
from koordinator.core.dates import (
    add_months,
    german,
    local_time,
    local_today,
    parse_timestamp,
    timestamp,
    utc_now,
)
from koordinator.core.errors import SnapshotError
from koordinator.core.files import Written, write_text
from koordinator.core.history import default_author, summary
from koordinator.core.records import Delay, Event, Milestone, table
from koordinator.core.replay import MergePlan, Source
from koordinator.core.snapshot_format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    NULL_KEY,
    THIS_DATABASE,
    MeasureRecord,
    Snapshot,
    Summary,
)
from koordinator.core.snapshot_reader import load, loads
from koordinator.core.store.interface import CatalogueRead, Store
from koordinator.core.views import is_overdue
from koordinator.core.workflow import Status, cause_label

# The snapshot's API in one place: its data (snapshot_format) and reading (snapshot_reader)
# live in modules of their own and are named here too.
__all__ = [
    "DEFAULT_STALE_MONTHS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "THIS_DATABASE",
    "Export",
    "Finding",
    "ImportResult",
    "MeasureRecord",
    "Snapshot",
    "Summary",
    "check",
    "dumps",
    "export_to_file",
    "import_snapshots",
    "load",
    "loads",
    "prepare_export",
    "read_database",
    "snapshot_of",
]

DEFAULT_STALE_MONTHS = 6


# --- reading the database ---------------------------------------------------------------------


def read_database(
    catalogue: CatalogueRead, *, author: str, source: str, exported_at: str, schema_version: int
) -> Snapshot:
    """The whole catalogue as a snapshot (`catalogue`: one read transaction of a store)."""
    events = catalogue.events()
    states = catalogue.states(events)
    return Snapshot(
        exported_at=exported_at,
        author=author,
        source=source,
        schema_version=schema_version,
        fields=catalogue.field_names(),
        measures=tuple(
            MeasureRecord(state, tuple(events.get(uid, ()))) for uid, state in states.items()
        ),
        name=THIS_DATABASE,
    )


def snapshot_of(
    store: Store,
    *,
    author: str,
    clock: Callable[[], datetime] = utc_now,
    name: str = THIS_DATABASE,
) -> Snapshot:
    """The database now, as a snapshot named `name` in messages."""
    with store.reading_catalogue() as catalogue:
        snapshot = read_database(
            catalogue,
            author=author,
            source=store.name,
            schema_version=store.schema_version,
            exported_at=timestamp(clock()),
        )
    return replace(snapshot, name=name)


# --- writing ----------------------------------------------------------------------------------


def dumps(snapshot: Snapshot) -> str:
    """The snapshot as TOML; blocks in a fixed order so that equal states give equal bytes.

    Every element of an array of tables is a block of its own: a header line of ours and
    then what `tomli_w.dumps` writes for its values (`_Writer`).
    """
    head = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": snapshot.exported_at,
        "author": snapshot.author,
        "source": snapshot.source,
        "schema_version": snapshot.schema_version,
        "summary": snapshot.summary().to_toml(),
    }
    writer = _Writer()
    writer.text(tomli_w.dumps(head))
    for code, name in snapshot.fields.items():
        writer.block("fields", {"code": code, "name": name})
    for record in snapshot.measures:
        state = record.state
        writer.block("measures", table(state))
        for milestone in state.milestones.values():
            writer.block("measures.milestones", _row_table(milestone))
        for delay in state.delays.values():
            writer.block("measures.delays", _row_table(delay))
        for event in record.events:
            writer.event(event)
    return writer.getvalue()


# The characters tomli-w escapes in a (single-line) string: quote, backslash and the ASCII
# control characters except tab.  A string without any is written as it is, in quotes.
_ESCAPED = re.compile(r'["\\\x00-\x08\x0a-\x1f\x7f]').search


def _literal(value: Any) -> str:
    """tomli-w's text of a plain value (`tomli_w._writer.format_literal`), taking the short
    way for what a snapshot is made of: strings that need no escaping, integers, booleans.
    tests/test_snapshot_writer.py proves it equal to tomli-w on awkward values."""
    kind = value.__class__
    if kind is str:
        return f'"{value}"' if _ESCAPED(value) is None else tomli_w.dumps({"v": value})[4:-1]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    return tomli_w.dumps({"v": value})[4:-1]


class _KeyTexts(dict[str, str]):
    """tomli-w's text of each key, with " = ", made when first asked for."""

    def __missing__(self, key: str) -> str:
        text = self[key] = tomli_w.dumps({key: 0}).removesuffix("0\n")
        return text


class _Writer:
    """What the blocks of `dumps` would be as `"\n".join(f"[[{array}]]\n" +
    tomli_w.dumps(values), ...)`, but written in one pass: a 10,000-measure catalogue has
    250,000 blocks, and tomli-w looks at every character of every string in Python.

    Tables are laid out as tomli-w lays them out (`tomli_w._writer.gen_table_chunks`):
    values first, one per line, then each sub-table after an empty line, a table's header
    left out when it has only sub-tables.  Anything else tomli-w might do (an array of
    tables, a float) is left to tomli-w itself.  Each distinct header and set of keys
    becomes a %-template, made once.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._templates: dict[tuple[str, tuple[str, ...]], str] = {}
        self._keys = _KeyTexts()
        self._arrays: dict[tuple[tuple[type, Any], ...], str] = {}
        # An event's template by its keys: as it is, and with every value in quotes.
        self._event_templates: dict[tuple[str, ...], tuple[str, str]] = {}

    def text(self, text: str) -> None:
        """Text as it is (a block of its own before the first `block`)."""
        self._parts.append(text)

    def block(self, array: str, values: Mapping[str, Any]) -> None:
        """One [[array]] element, always as a table of its own.  Only the header line is
        ours: tomli-w would inline short elements, and a milestone that grows a note would
        then change its whole layout (and every diff of it).  Its values are plain ones
        (text, numbers, true/false), never tables or arrays."""
        head = f"\n[[{array}]]\n" if self._parts else f"[[{array}]]\n"
        keys = tuple(values)
        template = self._templates.get((head, keys))
        if template is None:
            template = self._templates[head, keys] = self._template(head, keys)
        self._parts.append(template % tuple(map(_literal, values.values())))

    def event(self, event: Event) -> None:
        """A history event: its block, and after an empty line its details, if any.  Its
        values are all strings, and seldom any that tomli-w escapes: one look at all of
        them (tab, the separator, is not escaped) decides whether they go in as they are."""
        keys: tuple[str, ...] = _EVENT_KEYS
        values: tuple[str, ...] = (
            event.id,
            event.kind,
            event.occurred_at,
            event.author,
            event.note,
        )
        if event.from_status is not None:
            keys += ("from_status",)
            values += (event.from_status,)
        if event.to_status is not None:
            keys += ("to_status",)
            values += (event.to_status,)
        templates = self._event_templates.get(keys)
        if templates is None:
            template = self._template(_EVENT_HEAD, keys)
            templates = self._event_templates[keys] = (template, template.replace("%s", '"%s"'))
        if _ESCAPED("\t".join(values)) is None:
            self._parts.append(templates[1] % values)
        else:
            self._parts.append(templates[0] % tuple(map(_literal, values)))
        if event.details:
            self.details(event.details)

    def details(self, details: dict[str, Any]) -> None:
        """ "\n" and `tomli_w.dumps({"measures": {"events": {"details": _encode(details,
        changes=True)}}})`: an event's JSON details as TOML."""
        parts = self._parts
        mark = len(parts)
        parts.append("\n")
        if not self._table(details, "measures.events.details", changes=True):
            del parts[mark:]
            encoded = _encode(details, changes=True)
            parts.append("\n" + tomli_w.dumps({"measures": {"events": {"details": encoded}}}))

    def _table(self, table: dict[str, Any], name: str, *, changes: bool = False) -> bool:
        """Write `_encode(table)` as the table `name` (and its sub-tables); False if it
        holds something tomli-w might write otherwise (an array of tables, a float, a key
        `_null` of its own) -- the caller then leaves all to tomli-w."""
        key_text = self._keys
        lines = []
        tables = []
        nulls = []
        for key in sorted(table):
            value = table[key]
            kind = value.__class__
            if kind is str and _ESCAPED(value) is None:
                lines.append(f'{key_text[key]}"{value}"')
            elif kind is str or kind is int or kind is bool:
                lines.append(key_text[key] + _literal(value))
            elif value is None:
                nulls.append(key)
            elif kind is dict:
                if changes and key == "changes":  # [old, new] pairs: a table {old, new}
                    value = {name: {"old": pair[0], "new": pair[1]} for name, pair in value.items()}
                tables.append((key, value))
            elif kind is list and not any(isinstance(item, Mapping) for item in value):
                lines.append(key_text[key] + self._array(value))
            else:
                return False
        if nulls:
            if NULL_KEY in table:
                return False
            lines.append(key_text[NULL_KEY] + self._array(nulls))
        parts = self._parts
        written = bool(lines) or not tables
        if written:
            parts.append(f"[{name}]\n")
            parts.append("\n".join(lines))
            if lines:
                parts.append("\n")
        for key, value in tables:
            if written:
                parts.append("\n")
            written = True
            if not self._table(value, f"{name}.{key_text[key][:-3]}"):
                return False
        return True

    def _template(self, head: str, keys: Sequence[str]) -> str:
        lines = [self._keys[key].replace("%", "%%") + "%s\n" for key in keys]
        return head.replace("%", "%%") + "".join(lines)

    def _array(self, value: list[Any]) -> str:
        """tomli-w's text of an array without tables (mostly `_null`'s few names, over and
        over: each distinct one formatted once)."""
        try:
            key = tuple((item.__class__, item) for item in value)
            text = self._arrays.get(key)
        except TypeError:  # an array of arrays: not cached
            return _literal(_encode(value))
        if text is None:
            text = self._arrays[key] = _literal(_encode(value))
        return text

    def getvalue(self) -> str:
        return "".join(self._parts)


_EVENT_HEAD = "\n[[measures.events]]\n"
_EVENT_KEYS = ("id", "kind", "occurred_at", "author", "note")  # then the statuses it has


def _row_table(row: Milestone | Delay) -> dict[str, Any]:
    """A milestone's or delay's table: a value that is none is left out."""
    return {name: value for name, value in table(row).items() if value is not None}


def _encode(value: Any, *, changes: bool = False) -> Any:
    """JSON details as TOML: a null is left out and its key listed in `_null`; an edit's
    `changes` pair [old, new] becomes a table {old, new} (a TOML array cannot hold a null)."""
    if isinstance(value, dict):
        table: dict[str, Any] = {}
        for key in sorted(value):
            item = value[key]
            if changes and key == "changes" and isinstance(item, dict):
                item = {name: {"old": pair[0], "new": pair[1]} for name, pair in item.items()}
            if item is not None:
                table[key] = _encode(item)
        nulls = sorted(key for key, item in value.items() if item is None)
        return table | ({NULL_KEY: nulls} if nulls else {})
    if isinstance(value, list):
        if any(item is None for item in value):
            raise SnapshotError(f"Wert {value!r} lässt sich nicht als TOML schreiben")
        return [_encode(item) for item in value]
    return value


# --- checks before an export ------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    number: str
    text: str

    def __str__(self) -> str:
        return f"{self.number}: {self.text}"


def check(
    snapshot: Snapshot, *, today: date, stale_months: int = DEFAULT_STALE_MONTHS
) -> list[Finding]:
    """What a coordinator should look at before handing the snapshot on (0 months: no
    staleness check)."""
    found: list[Finding] = []
    stale_before = add_months(today, -stale_months) if stale_months > 0 else None
    for record in snapshot.measures:
        state = record.state
        if state.withdrawn:  # counted nowhere, looked at by nobody
            continue
        status = Status(state.status)

        def note(text: str, number: str = state.number) -> None:
            found.append(Finding(number, text))

        open_delays = [delay for delay in state.delays.values() if delay.resolved_on is None]
        if status == Status.DELAYED and not open_delays:
            note("„Verzögert“, aber keine offene Verzögerung erfasst")
        if status != Status.DELAYED:
            for delay in open_delays:
                note(
                    f"offene Verzögerung ({cause_label(delay.cause)}, seit {german(delay.since)}), "
                    f"aber Status „{status.label}“"
                )
        for milestone in state.milestones.values():
            if is_overdue(milestone.due, milestone.done, today):
                note(f"Meilenstein „{milestone.title}“ überfällig (fällig {german(milestone.due)})")
        changed = parse_timestamp(state.updated_at).astimezone().date()
        if stale_before and not status.is_final and changed < stale_before:
            note(
                f"seit über {stale_months} Monaten unverändert "
                f"(zuletzt {changed.strftime('%d.%m.%Y')})"
            )
        if replay.creation(record.events) is None:
            note(
                "Stand passt nicht zum eigenen Verlauf – der Verlauf beginnt nicht mit dem Anlegen"
            )
            continue
        replayed = replay.replay(record.events)
        difference = next(replay.differences(state, replayed.state), None)
        if difference is not None:
            note(f"Stand passt nicht zum eigenen Verlauf – {difference}")
        for event in record.events:
            if event.id in replayed.conflicts:
                note(
                    f"Konflikt: {summary(event)} ({event.author}, {local_time(event.occurred_at)}) "
                    f"nicht angewandt – {replayed.conflicts[event.id]}"
                )
    return found


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    snapshot: Snapshot
    text: str
    findings: tuple[Finding, ...]
    written: Written | None = None  # what was written where; None: not written (yet)


def prepare_export(
    store: Store,
    *,
    author: str,
    today: date | None = None,
    clock: Callable[[], datetime] = utc_now,
    stale_months: int = DEFAULT_STALE_MONTHS,
) -> Export:
    with no_cycle_collection():
        snapshot = snapshot_of(store, author=author, clock=clock)
        # The checks replay every measure's history: one the database holds damaged fails.
        with store.damaged_rows():
            findings = check(snapshot, today=today or local_today(), stale_months=stale_months)
        return Export(snapshot, dumps(snapshot), tuple(findings))


def export_to_file(
    store: Store,
    path: Path,
    *,
    author: str,
    today: date | None = None,
    stale_months: int = DEFAULT_STALE_MONTHS,
) -> Export:
    """Export and write in one call (the UI's `x`); the findings come back, not in the way."""
    export = prepare_export(store, author=author, today=today, stale_months=stale_months)
    written = write_text(path, export.text)
    return Export(export.snapshot, export.text, export.findings, written)


# --- import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    snapshots: tuple[Snapshot, ...]
    plan: MergePlan
    new_fields: tuple[tuple[int, str], ...]
    notes: tuple[str, ...]  # field names that differ, skipped operations
    dry_run: bool

    @property
    def nothing_to_do(self) -> bool:
        return not self.plan.measures and not self.new_fields

    def lines(self) -> Iterator[str]:
        """What the import did (or would do), in German."""
        for snapshot in self.snapshots:
            yield (
                f"{snapshot.name}: {len(snapshot.measures)} Maßnahmen, "
                f"{snapshot.event_count} Einträge (Export vom {local_time(snapshot.exported_at)}, "
                f"{snapshot.author})"
            )
        for code, name in self.new_fields:
            yield f"Handlungsfeld {code} – {name}: neu"
        for merge in self.plan.measures:
            yield from _merge_lines(merge)
        yield from self.notes
        events, measures = self.plan.new_event_count, len(self.plan.measures)
        conflicts = sum(len(merge.conflicts) for merge in self.plan.measures)
        if self.nothing_to_do:
            yield "Nichts zu tun – alle Einträge sind schon vorhanden."
            return
        where = f" bei {measures} Maßnahme{'' if measures == 1 else 'n'}" + (
            f", {conflicts} Konflikt{'' if conflicts == 1 else 'e'}" if conflicts else ""
        )
        if self.dry_run:
            yield (
                "Probelauf – nichts geschrieben. Ein Import übernähme "
                f"{_entries(events, accusative=True)}{where}."
            )
        else:
            yield f"Importiert: {_entries(events)}{where}."


def _merge_lines(merge: replay.MeasureMerge) -> Iterator[str]:
    after, before = merge.after, merge.before
    yield f"{after.number} {after.title}: {'neu, ' if before is None else ''}{_entries(len(merge.new_events))}"
    for event in merge.new_events:
        note = f" – {event.note}" if event.note else ""
        yield f"  + {local_time(event.occurred_at)} {event.author}: {summary(event)}{note}"
    if merge.renumbered is not None:
        details = merge.renumbered.details
        yield (
            f"  Neue Nummer {details['number']}: {details['previous']} war schon „{merge.kept_by}“"
        )
    if before is not None and before.status != after.status:
        yield f"  Status jetzt: {Status(after.status).label} (bisher {Status(before.status).label})"
    for conflict in merge.conflicts:
        yield f"  Konflikt: beide Seiten haben {conflict.number} nach dem gemeinsamen Stand geändert –"
        for label, events in conflict.sides:
            changes = "; ".join(
                f"{summary(e)} ({e.author}, {local_time(e.occurred_at)})" for e in events
            )
            yield f"    {label}: {changes}"
        winner = conflict.winner
        yield (
            f"    es gilt die spätere Änderung: {summary(winner)} ({winner.author}, "
            f"{local_time(winner.occurred_at)}); die andere bleibt im Verlauf"
        )
    for event, reason in merge.not_applied:
        yield (
            f"  Nicht angewandt: {summary(event)} ({event.author}, "
            f"{local_time(event.occurred_at)}) – {reason}; es bleibt im Verlauf"
        )
    yield from (f"  Hinweis: {text}" for text in merge.skipped)


def _entries(count: int, *, accusative: bool = False) -> str:
    if count == 1:
        return "1 neuen Eintrag" if accusative else "1 neuer Eintrag"
    return f"{count} neue Einträge"


def import_snapshots(
    store: Store,
    paths: Sequence[Path],
    *,
    dry_run: bool = False,
    clock: Callable[[], datetime] = utc_now,
    author: str = "",
) -> ImportResult:
    """Merge snapshot files into the database: all read and checked first, then one write
    transaction (or, with `dry_run`, only a read).  An event dated too far after `clock`
    refuses its file (`snapshot_reader.MAX_AHEAD`).  A number clash is resolved by a
    renumbering `author` records (`replay.plan_merge`)."""
    with no_cycle_collection():
        return _import_snapshots(
            store, paths, dry_run=dry_run, now=clock(), author=author or default_author()
        )


def _import_snapshots(
    store: Store, paths: Sequence[Path], *, dry_run: bool, now: datetime, author: str
) -> ImportResult:
    snapshots = tuple(load(path, now=now) for path in paths)
    # The files are checked completely (above): a row error now is the database's own.
    with store.merging(dry_run=dry_run) as catalogue:
        local_fields = catalogue.field_names()
        new_fields: dict[int, str] = {}
        notes: list[str] = []
        for snapshot in snapshots:
            for code, name in snapshot.fields.items():
                known = local_fields.get(code, new_fields.get(code))
                if known is None:
                    new_fields[code] = name
                elif known != name:
                    notes.append(
                        f"Handlungsfeld {code}: {snapshot.name} nennt es „{name}“ – "
                        f"der Name „{known}“ bleibt"
                    )
        local = Source(THIS_DATABASE, catalogue.events())
        plan = replay.plan_merge(
            local,
            [snapshot.source_events() for snapshot in snapshots],
            numbers=catalogue.numbers(),
            renumbering=replay.Renumbering(author, now),
        )
        if not dry_run:
            catalogue.add_fields(new_fields)
            catalogue.apply_merge(plan)
    return ImportResult(
        snapshots=snapshots,
        plan=plan,
        new_fields=tuple(sorted(new_fields.items())),
        notes=tuple(notes),
        dry_run=dry_run,
    )
