"""The TOML snapshot: what a coordinator hands to FB 12, and what FB 12 combines.

* `read_database` takes the whole catalogue in one read transaction as a `Snapshot`;
  `dumps` writes it as TOML 1.0 (tomli-w), deterministically: the same database state gives
  the same bytes apart from `exported_at`.  `write_snapshot` replaces a file atomically.
* `check` lists what a coordinator should look at before handing a snapshot on (delays that
  contradict the status, overdue milestones, measures nobody touched for months, a state
  that does not match its own history).
* `loads` / `load` read a snapshot back with tomllib and validate all of it; every problem
  is a `SnapshotError` naming FILE:LINE (tomllib gives no positions, so `_Lines` finds them).
* `import_snapshots` merges snapshots into a database, all or nothing, through
  `koordinator.core.replay`.

The format is documented key by key in docs/snapshot-format.md.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import tomli_w
from sqlalchemy import select
from sqlalchemy.orm import Session

from koordinator.core import replay
from koordinator.core.dates import (
    TIMESTAMP_FORMAT,
    add_months,
    from_iso,
    german,
    local_time,
    local_today,
    parse_timestamp,
    timestamp,
    utc_now,
)
from koordinator.core.db import Database
from koordinator.core.errors import KoordinatorError, SnapshotError
from koordinator.core.history import (
    CONTROL_CHARACTERS,
    MAX_TEXT_LENGTH,
    EventKind,
    text_problem,
)
from koordinator.core.models import SCHEMA_VERSION, FieldOfAction
from koordinator.core.replay import (
    DELAY_FIELDS,
    MEASURE_EDITABLE,
    MEASURE_RESTORABLE,
    MILESTONE_FIELDS,
    DelayState,
    Event,
    MeasureState,
    MergePlan,
    MilestoneState,
    Source,
    plain,
)
from koordinator.core.workflow import Status, cause_label, check_move

FORMAT_NAME = "koordinator-snapshot"
FORMAT_VERSION = 1
DEFAULT_STALE_MONTHS = 6
# In event details, the names of keys whose value is "none" (TOML has no null).
NULL_KEY = "_null"
THIS_DATABASE = "diese Datenbank"


@dataclass(frozen=True)
class MeasureRecord:
    """A measure as the snapshot carries it: its state and its whole history."""

    state: MeasureState
    events: tuple[Event, ...]  # in replay order


@dataclass(frozen=True)
class Summary:
    total: int
    from_catalogue: int
    added: int
    by_status: dict[str, int]  # every status code, in workflow order
    by_field: dict[str, int]  # every field of action (code as text), in code order

    def to_toml(self) -> dict[str, Any]:
        return {name.name: getattr(self, name.name) for name in fields(self)}


@dataclass(frozen=True)
class Snapshot:
    exported_at: str
    author: str
    source: str  # the database file's name
    schema_version: int
    fields: dict[int, str]  # field of action code -> name, in code order
    measures: tuple[MeasureRecord, ...]  # in number order
    name: str = ""  # the file it was read from (messages)

    @property
    def event_count(self) -> int:
        return sum(len(record.events) for record in self.measures)

    def summary(self) -> Summary:
        states = [record.state for record in self.measures]
        by_field = {str(code): 0 for code in self.fields}
        for state in states:
            by_field[str(state.field)] = by_field.get(str(state.field), 0) + 1
        return Summary(
            total=len(states),
            from_catalogue=sum(state.origin == "catalog" for state in states),
            added=sum(state.origin == "added" for state in states),
            by_status={s.value: sum(state.status == s.value for state in states) for s in Status},
            by_field=by_field,
        )

    def source_events(self) -> Source:
        return Source(self.name, {record.state.number: record.events for record in self.measures})


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a whole catalogue is read or written: 100,000
    events are millions of (acyclic) objects, and each full collection would walk them all
    again, for nothing.  Refcounting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- reading the database ---------------------------------------------------------------------


def read_database(session: Session, *, author: str, source: str, exported_at: str) -> Snapshot:
    """The whole catalogue as a snapshot (call inside one read transaction)."""
    events = replay.load_events(session)
    states = replay.load_states(session, events)
    return Snapshot(
        exported_at=exported_at,
        author=author,
        source=source,
        schema_version=SCHEMA_VERSION,
        fields={
            field.code: field.name
            for field in session.scalars(select(FieldOfAction).order_by(FieldOfAction.code))
        },
        measures=tuple(
            MeasureRecord(state, tuple(events.get(number, ()))) for number, state in states.items()
        ),
        name=THIS_DATABASE,
    )


def snapshot_of(
    database: Database,
    *,
    author: str,
    clock: Callable[[], datetime] = utc_now,
    name: str = THIS_DATABASE,
) -> Snapshot:
    """The database now, as a snapshot named `name` in messages."""
    with database.read() as session:
        snapshot = read_database(
            session,
            author=author,
            source=database.target.path.name,
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
        writer.block("measures", _measure_table(state))
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
        keys = _EVENT_KEYS
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


def _measure_table(state: MeasureState) -> dict[str, Any]:
    return {
        "number": state.number,
        "field": state.field,
        "title": state.title,
        "unit": state.unit,
        "origin": state.origin,
        "origin_date": state.origin_date,
        "status": state.status,
        "note": state.note,
        "revision": state.revision,
        "updated_at": state.updated_at,
    }


def _row_table(row: MilestoneState | DelayState) -> dict[str, Any]:
    names = MILESTONE_FIELDS if isinstance(row, MilestoneState) else DELAY_FIELDS
    values = {"id": row.id} | {name: getattr(row, name) for name in names}
    return {name: value for name, value in values.items() if value is not None}


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


def write_snapshot(path: Path, text: str) -> Path:
    """Write `path` atomically: a temporary file in the same folder, fsync, rename.

    A failure (no space, no permission, interrupted) leaves no truncated snapshot and never
    touches an older file of the same name; after the rename the folder is synced too, so
    the new name survives a power cut.
    """
    path = path.expanduser()
    if path.is_dir():
        raise SnapshotError(f"{path}: ist ein Ordner, keine Datei")
    folder = path.parent
    if not folder.is_dir():
        raise SnapshotError(f"{path}: Ordner {folder} existiert nicht")
    try:
        handle, temporary_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=folder
        )
    except OSError as error:
        raise SnapshotError(f"{path}: kann nicht geschrieben werden ({error.strerror})") from None
    temporary = Path(temporary_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private (0600); a snapshot gets the user's usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)
        temporary.replace(path)  # os.replace: atomic, also over an existing file
        _sync_folder(folder)
    except OSError as error:
        raise SnapshotError(f"{path}: kann nicht geschrieben werden ({error.strerror})") from None
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a folder for fsync; its rename is durable
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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
            due = from_iso(milestone.due)
            if not milestone.done and due is not None and due.is_past(today):
                note(f"Meilenstein „{milestone.title}“ überfällig (fällig {due.german()})")
        changed = parse_timestamp(state.updated_at).astimezone().date()
        if stale_before and not status.is_final and changed < stale_before:
            note(
                f"seit über {stale_months} Monaten unverändert "
                f"(zuletzt {changed.strftime('%d.%m.%Y')})"
            )
        mismatch = _history_mismatch(record)
        if mismatch:
            note(f"Stand passt nicht zum eigenen Verlauf – {mismatch}")
    return found


def _history_mismatch(record: MeasureRecord) -> str:
    if not record.events or record.events[0].kind != EventKind.MEASURE_CREATED:
        return "der Verlauf beginnt nicht mit dem Anlegen"
    difference = next(replay.differences(record.state, replay.replay(record.events).state), None)
    return str(difference or "")


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    snapshot: Snapshot
    text: str
    findings: tuple[Finding, ...]
    path: Path | None = None  # where it was written; None: not written (yet)


def prepare_export(
    database: Database,
    *,
    author: str,
    today: date | None = None,
    clock: Callable[[], datetime] = utc_now,
    stale_months: int = DEFAULT_STALE_MONTHS,
) -> Export:
    with _no_cycle_collection():
        snapshot = snapshot_of(database, author=author, clock=clock)
        findings = check(snapshot, today=today or local_today(), stale_months=stale_months)
        return Export(snapshot, dumps(snapshot), tuple(findings))


def export_to_file(
    database: Database,
    path: Path,
    *,
    author: str,
    today: date | None = None,
    stale_months: int = DEFAULT_STALE_MONTHS,
) -> Export:
    """Export and write in one call (the UI's `x`); the findings come back, not in the way."""
    export = prepare_export(database, author=author, today=today, stale_months=stale_months)
    written = write_snapshot(path, export.text)
    return Export(export.snapshot, export.text, export.findings, written)


# --- reading a snapshot -----------------------------------------------------------------------

KeyPath = tuple[str | int, ...]

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = re.compile(rf"\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*")
_KEY_PART = re.compile(_KEY)


class _Lines:
    """The line where each table, array element and key of a TOML text starts.

    tomllib reports positions only for syntax errors; this scanner (run on text tomllib has
    accepted) follows the table headers and array-of-tables counters the way TOML does, so
    that a semantic error can name FILE:LINE too.
    """

    def __init__(self, text: str, headers: dict[KeyPath, int] | None = None) -> None:
        """`headers`: the lines of the tables, known already; the rest is then found only
        when a line is asked for that is not a table's (a message)."""
        self._text = text
        self._at: dict[KeyPath, int] = {}
        if headers is None:
            self._scan(text.splitlines())
        else:
            self._at = headers
        self._complete = headers is None

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, else of the nearest enclosing table or key that has one."""
        if not self._complete and path not in self._at:
            self._at = {}
            self._scan(self._text.splitlines())
            self._complete = True
        while path:
            if path in self._at:
                return self._at[path]
            path = path[:-1]
        return None

    def _scan(self, lines: list[str]) -> None:
        arrays: dict[KeyPath, int] = {}
        table: KeyPath = ()
        number = 0
        at = self._at
        simple = _SIMPLE_LINE.fullmatch
        while number < len(lines):
            text = lines[number]
            number += 1
            line = simple(text)
            if line:  # key = value on one line, the most common by far: as below, faster
                at[(*table, line.group(1))] = number
                continue
            stripped = text.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("["):
                double = stripped.startswith("[[")
                match = _DOTTED.match(stripped[2 if double else 1 :])
                if match is None:
                    continue
                keys = _key_parts(match.group(1))
                parent = self._resolve(arrays, keys[:-1])
                path = (*parent, keys[-1])
                if double:
                    arrays[path] = arrays.get(path, 0) + 1
                    self._at.setdefault(path, number)
                    path = (*path, arrays[path] - 1)
                table = path
                self._at[table] = number
                continue
            match = _DOTTED.match(text)
            if match is None or not text[match.end() :].startswith("="):
                continue
            path = (*table, *_key_parts(match.group(1)))
            self._at[path] = number
            rest = text[match.end() + 1 :]
            if not _SIMPLE_VALUE.fullmatch(rest):  # else: one line, no elements to note
                number = self._value(lines, number, rest, path)

    @staticmethod
    def _resolve(arrays: Mapping[KeyPath, int], keys: Sequence[str]) -> KeyPath:
        """A header's path, each array of tables standing for its last element."""
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            if path in arrays:
                path = (*path, arrays[path] - 1)
        return path

    def _value(self, lines: list[str], number: int, rest: str, path: KeyPath) -> int:
        """Skip a value that may span lines (array, multi-line string), noting where each
        element of a top-level array starts; return the number of the last line read."""
        depth, quote, element = 0, "", 0
        expect_element = False
        while True:
            index = 0
            while index < len(rest):
                char = rest[index]
                if quote:
                    if rest.startswith(quote, index):
                        index += len(quote)
                        quote = ""
                        continue
                    index += 2 if char == "\\" and quote[0] == '"' else 1
                    continue
                if char == "#":
                    break
                if depth == 1 and expect_element and not char.isspace() and char not in ",]":
                    self._at[(*path, element)] = number
                    element += 1
                    expect_element = False
                if char in "\"'":
                    quote = char * 3 if rest.startswith(char * 3, index) else char
                    index += len(quote)
                    continue
                if char in "[{":
                    depth += 1
                    expect_element = expect_element or (depth == 1 and char == "[")
                elif char in "]}":
                    depth -= 1
                elif char == "," and depth == 1:
                    expect_element = True
                index += 1
            if (depth <= 0 and len(quote) != 3) or number >= len(lines):
                return number
            rest = lines[number]
            number += 1


# A value that ends on its line and has no elements: a string on one line, a number, a
# word (true, a date), each maybe followed by a comment.  (Not triple quotes: '' or "" is
# one string here, and nothing may follow it but a comment.)
_SIMPLE_VALUE = re.compile(
    r"""[ \t]*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_:.+-]+)[ \t]*(?:#.*)?"""
)


_SIMPLE_LINE = re.compile(r"[ \t]*([A-Za-z0-9_-]+)[ \t]*=" + _SIMPLE_VALUE.pattern)


@functools.lru_cache(maxsize=1024)
def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(
        tomllib.loads(f"k = {part}")["k"] if part[0] in "\"'" else part
        for part in _KEY_PART.findall(dotted)
    )


def load(path: Path) -> Snapshot:
    """Read and validate a snapshot file; SnapshotError says what and where."""
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(f"{name}: Datei nicht gefunden") from None
    except IsADirectoryError:
        raise SnapshotError(f"{name}: ist ein Ordner, keine Snapshot-Datei") from None
    except OSError as error:
        raise SnapshotError(f"{name}: kann nicht gelesen werden ({error.strerror})") from None
    try:
        # A byte-order mark is what some Windows editors add; it is not part of the content.
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SnapshotError(f"{name}:{line}: kein UTF-8-Text") from None
    return loads(text, name)


# --- reading the snapshot's own layout fast ----------------------------------------------------
#
# tomllib reads about a megabyte a second; a 10,000-measure snapshot has 42.  What `dumps`
# writes is a small part of TOML: [table] and [[array]] headers of bare keys, `key = value`
# lines with a bare key and a string, integer or true/false, and arrays of those (tomli-w
# writes one element a line).  For that part JSON means the same, so the text is turned
# into JSON by a few regular expressions and read by json.loads; the tables are then put
# together by TOML's rules.  Anything else in the file, or anything out of the ordinary
# (an unknown line, a float, a \U escape, a key twice, a table defined twice), and the
# whole text goes to tomllib, which then gives the answer or the error as before.

_PLAIN_CHARS = r'[^"\\\x00-\x08\x0a-\x1f\x7f]*'
_JSON_STRING = (  # runs of plain characters between escapes: much faster to match
    rf'"{_PLAIN_CHARS}(?:\\(?:[btnfr"\\]|u(?![dD][89abAB])[0-9a-fA-F]{{4}}){_PLAIN_CHARS})*"'
)
_JSON_VALUE = rf"(?:{_JSON_STRING}|-?(?:0|[1-9][0-9]{{0,17}})|true|false)"
_BARE = r"[A-Za-z0-9_-]+"
_DOTTED_BARE = rf"{_BARE}(?:\.{_BARE})*"
# Every line of the layout (an array with its elements and its closing line as one).
_FAST_LINE = re.compile(
    rf"^(?:\[\[{_DOTTED_BARE}\]\]|\[{_DOTTED_BARE}\]|{_BARE} = (?:{_JSON_VALUE}|\[\])"
    rf"|{_BARE} = \[\n(?:    {_JSON_VALUE},\n)*\]|)\n",
    re.MULTILINE,
)
# The changes into JSON; all with fixed replacements (no groups), which re applies in C.
# On a text _FAST_LINE has accepted they touch nothing inside strings: there a quote is
# always escaped, so " = " is never followed by a whole value up to the line's end.
_TO_JSON = (  # each starts with a fixed text (re then finds it fast)
    (re.compile(rf"\n(?={_BARE} = )"), '\n,"'),  # counted: the keys
    (re.compile(rf" = (?=(?:{_JSON_VALUE}|\[\]|\[)$)", re.MULTILINE), '":'),
    (re.compile(r",(?=\n\]$)", re.MULTILINE), ""),  # an array's last comma
    (re.compile(rf"\n\[\[(?={_DOTTED_BARE}\]\]$)", re.MULTILINE), '\n}],["A'),  # counted
    (re.compile(r"\]\]$", re.MULTILINE), '",{"":0'),
    (re.compile(rf"\n\[(?={_DOTTED_BARE}\]$)", re.MULTILINE), '\n}],["T'),  # counted
    (re.compile(r"\](?<=[A-Za-z0-9_-]\])$", re.MULTILINE), '",{"":0'),
)
_FAST_HEADER = re.compile(r"^\[", re.MULTILINE)
# Line breaks of str.splitlines (which _Lines counts by) other than \n.
_OTHER_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


class _NotFastError(Exception):
    pass


def _fast_toml(text: str) -> tuple[dict[str, Any], dict[KeyPath, int]] | None:
    """`tomllib.loads(text)` for text in the layout `dumps` writes, and the line of every
    table header as `_Lines` would find it; None for any other text."""
    if not text.endswith("\n") or _OTHER_LINE_BREAKS.search(text):
        return None
    rest, _ = _FAST_LINE.subn("", text)
    if rest:
        return None  # a line of another kind
    json_text = "\n" + text  # every line after a line break
    counts = []
    for pattern, replacement in _TO_JSON:
        json_text, count = pattern.subn(replacement, json_text)
        counts.append(count)
    try:
        blocks = json.loads(f'[["T",{{"":0{json_text}}}]]', strict=False)
    except ValueError:
        return None
    if sum(len(values) for _, values in blocks) - len(blocks) != counts[0]:
        return None  # a key twice in one table
    try:
        return _assemble(blocks, _header_lines(text, counts[3] + counts[5]))
    except _NotFastError:
        return None


def _header_lines(text: str, count: int) -> list[int]:
    numbers = []
    line, position = 1, 0
    for match in _FAST_HEADER.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        numbers.append(line)
    if len(numbers) != count:
        raise _NotFastError
    return numbers


def _assemble(
    blocks: list[list[Any]], header_lines: list[int]
) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    """The document from its tables in order, by TOML's rules on defining tables, and the
    line of each table and array of tables (as `_Lines` finds them)."""
    root: dict[str, Any] = blocks[0][1]
    del root[""]
    defined = {id(root)}  # tables a header (or the document) has defined
    arrays: set[int] = set()  # arrays of tables ([[...]])
    positions: dict[KeyPath, int] = {}
    for (header, values), number in zip(blocks[1:], header_lines, strict=True):
        del values[""]
        table = root
        path: KeyPath = ()
        *parents, last = header[1:].split(".")
        for key in parents:
            item = table.get(key)
            path = (*path, key)
            if item is None:
                item = table[key] = {}
            elif type(item) is list:
                if id(item) not in arrays:
                    raise _NotFastError
                path = (*path, len(item) - 1)
                item = item[-1]
            elif type(item) is not dict:
                raise _NotFastError
            table = item
        path = (*path, last)
        item = table.get(last)
        if header[0] == "A":
            if item is None:
                item = table[last] = []
                arrays.add(id(item))
                positions[path] = number
            elif type(item) is not list or id(item) not in arrays:
                raise _NotFastError
            item.append(values)
            defined.add(id(values))
            positions[(*path, len(item) - 1)] = number
        else:
            if item is None:
                table[last] = values
                defined.add(id(values))
            elif type(item) is dict and id(item) not in defined:
                if item.keys() & values.keys():
                    raise _NotFastError
                item.update(values)
                defined.add(id(item))
            else:
                raise _NotFastError
            positions[path] = number
    return root, positions


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)")


def loads(text: str, name: str = "<snapshot>") -> Snapshot:
    """Parse and validate snapshot text completely."""
    with _no_cycle_collection():
        return _loads(text, name)


def _loads(text: str, name: str) -> Snapshot:
    fast = _fast_toml(text)
    if fast is not None:
        data, headers = fast
        return _Reader(name, _Lines(text, headers)).snapshot(data)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_POSITION.search(message)
        reason = _TOML_POSITION.sub("", message)
        if match and match.group(1):
            where = f"{name}:{match.group(1)}"
        else:
            where = f"{name}:{len(text.splitlines()) or 1}"
        raise SnapshotError(f"{where}: kein gültiges TOML ({reason})") from None
    return _Reader(name, _Lines(text)).snapshot(data)


# [0-9], not \d: \d would let other scripts' digits through, which SQLite's checks refuse.
_LOOSE_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER = re.compile(r"[1-9][0-9]{0,1}\.[1-9][0-9]{0,5}")  # field 1-99, sequence below 10**6

Check = Callable[[Any, KeyPath], Any]
_STATUSES = frozenset(status.value for status in Status)
_KINDS = frozenset(kind.value for kind in EventKind)


def _valid_timestamp(text: str, format: str | None = None) -> bool:
    """Whether a text of the form of _TIMESTAMP is a real moment: datetime.fromisoformat
    first (fast); what it refuses, strptime decides (it allows seconds 60 and 61)."""
    try:
        if format is None:
            datetime.fromisoformat(text)
        else:
            datetime.strptime(text, format)
    except ValueError:
        return False
    return True


_ABSENT = object()


class _Table:
    """The keys a table must have (`required`) and may have (`optional`), each with its
    check; made once per kind of table, not once per table read (there are 250,000)."""

    def __init__(
        self, required: Mapping[str, Check], optional: Mapping[str, Check] | None = None
    ) -> None:
        optional = optional or {}
        self.names = (*required, *optional)  # for messages, in this order
        self.allowed = frozenset(self.names)
        self.checks = tuple(
            (key, check, key in required) for key, check in (*required.items(), *optional.items())
        )


class _Reader:
    """Validates the parsed TOML, turning it into a `Snapshot` or a located SnapshotError."""

    def __init__(self, name: str, lines: _Lines) -> None:
        self.name = name
        self.lines = lines
        self.numbers: dict[int, str] = {}  # measure index -> number, for messages
        self._specs: dict[EventKind, _Table] = {}
        self._dates: set[str] = set()  # loose dates found valid
        self._measure = _Table(
            {
                "number": self.number,
                "field": self.positive,
                "title": self.title,
                "unit": self.text,
                "origin": self.origin,
                "origin_date": self.loose_date,
                "status": self.status,
                "note": self.text,
                "revision": self.positive,
                "updated_at": self.stamp,
                "events": self.list_of(lambda item, item_path: item),
            },
            {
                "milestones": self.list_of(self.milestone),
                "delays": self.list_of(self.delay),
            },
        )
        self._milestone = _Table(
            {"id": self.identifier, "title": self.title, "done": self.boolean, "note": self.text},
            {"due": self.loose_date, "done_on": self.loose_date},
        )
        self._delay = _Table(
            {
                "id": self.identifier,
                "cause": self.title,
                "since": self.loose_date,
                "note": self.text,
            },
            {"until": self.loose_date, "resolved_on": self.loose_date},
        )
        self._event = _Table(
            {
                "id": self.identifier,
                "kind": self.kind,
                "occurred_at": self.stamp,
                "author": self.title,
                "note": self.text,
            },
            {
                "from_status": self.status,
                "to_status": self.status,
                "details": lambda item, item_path: item,
            },
        )

    # --- reporting

    def fail(self, path: KeyPath, problem: str) -> NoReturn:
        line = self.lines.line(path)
        where = f"{self.name}:{line}" if line else self.name
        measure = ""
        if len(path) >= 2 and path[0] == "measures" and isinstance(path[1], int):
            number = self.numbers.get(path[1])
            measure = f"Maßnahme {number}" if number else f"Maßnahme Nr. {path[1] + 1}"
            path = path[2:]
        key = _display(path, with_positions=line is None)
        subject = ", ".join(part for part in (measure, f"„{key}“" if key else "") if part)
        raise SnapshotError(f"{where}: {subject + ': ' if subject else ''}{problem}")

    # --- generic checks

    def table(self, value: Any, path: KeyPath, spec: _Table) -> dict[str, Any]:
        """A table with exactly these keys; optional ones that are missing come back None."""
        if not isinstance(value, dict):
            self.fail(path, f"erwartet eine Tabelle, gefunden {_kind_of(value)}")
        if not spec.allowed.issuperset(value):
            unknown = sorted(value.keys() - spec.allowed)
            allowed = ", ".join(spec.names)
            self.fail((*path, unknown[0]), f"unbekannter Schlüssel – erlaubt: {allowed}")
        result: dict[str, Any] = {}
        for key, check, required in spec.checks:
            item = value.get(key, _ABSENT)
            if item is not _ABSENT:
                result[key] = check(item, (*path, key))
            elif required:
                self.fail(path, f"Schlüssel „{key}“ fehlt")
            else:
                result[key] = None
        return result

    def details_table(self, value: Any, path: KeyPath, spec: _Table) -> dict[str, Any]:
        """A table inside event details: `_null` names keys without value; optional keys
        stay absent (the details are kept exactly as the database had them)."""
        value = self.nulls(value, path)
        result = self.table(value, path, spec)
        return {key: item for key, item in result.items() if key in value}

    def nulls(self, value: Any, path: KeyPath) -> Any:
        if not isinstance(value, dict) or NULL_KEY not in value:
            return value
        names = self.list_of(self.text)(value[NULL_KEY], (*path, NULL_KEY))
        doubled = sorted(set(names) & set(value))
        if doubled:
            self.fail((*path, doubled[0]), f"steht mit Wert und zugleich in „{NULL_KEY}“")
        rest = {key: item for key, item in value.items() if key != NULL_KEY}
        return rest | dict.fromkeys(names)

    def mapping_of(self, key_check: Check, value_check: Check, *, empty: bool = False) -> Check:
        def check(value: Any, path: KeyPath) -> dict[str, Any]:
            if not isinstance(value, dict) or not (value or empty):
                self.fail(path, "erwartet eine nicht leere Tabelle")
            return {
                key_check(key, (*path, key)): value_check(item, (*path, key))
                for key, item in value.items()
            }

        return check

    def list_of(self, item_check: Check) -> Check:
        def check(value: Any, path: KeyPath) -> list[Any]:
            if not isinstance(value, list):
                self.fail(path, f"erwartet eine Liste, gefunden {_kind_of(value)}")
            return [item_check(item, (*path, index)) for index, item in enumerate(value)]

        return check

    def nonempty_list_of(self, item_check: Check) -> Check:
        def check(value: Any, path: KeyPath) -> list[Any]:
            items = self.list_of(item_check)(value, path)
            if not items:
                self.fail(path, "darf nicht leer sein")
            return items

        return check

    def optional(self, check: Check) -> Check:
        return lambda value, path: None if value is None else check(value, path)

    def text(self, value: Any, path: KeyPath) -> str:
        # The common case first, in one look: a string without a character to refuse.
        if (
            value.__class__ is str
            and len(value) <= MAX_TEXT_LENGTH
            and not CONTROL_CHARACTERS.search(value)
        ):
            return value
        if not isinstance(value, str):
            self.fail(path, f"erwartet Text in Anführungszeichen, gefunden {_kind_of(value)}")
        if "\x00" in value:  # SQLite's text functions stop at a NUL; no one types one
            self.fail(path, "Text mit NUL-Zeichen (\\u0000)")
        problem = text_problem(value)  # the limits the catalogue service keeps too
        if problem:
            self.fail(path, problem)
        return value

    def title(self, value: Any, path: KeyPath) -> str:
        if not self.text(value, path).strip():
            self.fail(path, "darf nicht leer sein")
        return value

    def integer(self, value: Any, path: KeyPath) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"erwartet eine ganze Zahl, gefunden {_kind_of(value)}")
        return value

    def positive(self, value: Any, path: KeyPath) -> int:
        if self.integer(value, path) < 1:
            self.fail(path, f"erwartet eine Zahl ab 1, gefunden {value}")
        return value

    def boolean(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"erwartet true oder false, gefunden {_kind_of(value)}")
        return value

    def loose_date(self, value: Any, path: KeyPath) -> str:
        if (
            value.__class__ is str and value in self._dates
        ):  # dates repeat a lot (months, years): each checked once
            return value
        text = self.text(value, path)
        try:
            valid = bool(_LOOSE_DATE.fullmatch(text)) and from_iso(text) is not None
        except ValueError:
            valid = False
        if not valid:
            self.fail(path, f"„{text}“ ist kein Datum – erwartet JJJJ, JJJJ-MM oder JJJJ-MM-TT")
        self._dates.add(text)
        return text

    def stamp(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        valid = bool(_TIMESTAMP.fullmatch(text)) and (
            _valid_timestamp(text) or _valid_timestamp(text, TIMESTAMP_FORMAT)
        )
        if not valid:
            self.fail(path, f"„{text}“ ist kein Zeitstempel – erwartet JJJJ-MM-TTThh:mm:ss.ffffffZ")
        return text

    def status(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        if text not in _STATUSES:
            self.fail(path, f"unbekannter Status „{text}“ – erwartet {', '.join(Status)}")
        return text

    def kind(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        if text not in _KINDS:
            self.fail(path, f"unbekannte Art „{text}“ – erwartet {', '.join(EventKind)}")
        return text

    def origin(self, value: Any, path: KeyPath) -> str:
        if self.text(value, path) not in ("catalog", "added"):
            self.fail(path, f"„{value}“ – erwartet catalog oder added")
        return value

    def identifier(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        # Exactly the texts with str(uuid.UUID(text)) == text: lower-case 8-4-4-4-12 hex.
        if not _UUID.fullmatch(text):
            self.fail(path, f"„{text}“ ist keine UUID (z. B. 5f0c2a3e-6f43-4c1e-9a57-6b6f6f7264e1)")
        return text

    def number(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        if not _NUMBER.fullmatch(text):
            self.fail(path, f"„{text}“ ist keine Maßnahmennummer – erwartet z. B. „3.6“")
        return text

    def one_of(self, names: Sequence[str]) -> Check:
        def check(value: Any, path: KeyPath) -> str:
            if value not in names:
                self.fail(path, f"„{value}“ – erwartet {', '.join(names)}")
            return value

        return check

    # --- the snapshot

    def snapshot(self, data: dict[str, Any]) -> Snapshot:
        self._check_format(data)
        top = self.table(
            data,
            (),
            _Table(
                {
                    "format": self.text,
                    "version": self.integer,
                    "exported_at": self.stamp,
                    "author": self.title,
                    "source": self.text,
                    "schema_version": self.positive,
                    "summary": lambda value, path: value,  # compared once the measures are read
                },
                {
                    "fields": self.list_of(self.field),
                    "measures": self.list_of(lambda value, path: value),
                },
            ),
        )
        field_names: dict[int, str] = {}
        for index, (code, name) in enumerate(top["fields"] or []):
            if code in field_names:
                self.fail(("fields", index, "code"), f"Handlungsfeld {code} steht doppelt")
            field_names[code] = name
        records = [
            self.measure(value, ("measures", index), field_names)
            for index, value in enumerate(top["measures"] or [])
        ]
        self._check_unique(records)
        snapshot = Snapshot(
            exported_at=top["exported_at"],
            author=top["author"],
            source=top["source"],
            schema_version=top["schema_version"],
            fields=dict(sorted(field_names.items())),
            measures=tuple(sorted(records, key=lambda r: (r.state.field, r.state.sequence))),
            name=self.name,
        )
        self._check_summary(data["summary"], snapshot.summary())
        return snapshot

    def _check_format(self, data: dict[str, Any]) -> None:
        """Format and version first: a newer file should say so, not list unknown keys."""
        if data.get("format") != FORMAT_NAME:
            self.fail(
                ("format",),
                f'kein koordinator-Snapshot (erwartet format = "{FORMAT_NAME}")',
            )
        version = self.integer(data.get("version"), ("version",))
        if version > FORMAT_VERSION:
            self.fail(
                ("version",),
                f"Snapshot-Version {version} ist neuer als diese koordinator-Version (kennt bis "
                f"{FORMAT_VERSION}) – bitte koordinator aktualisieren",
            )
        if version < 1:
            self.fail(("version",), f"unbekannte Snapshot-Version {version}")

    def field(self, value: Any, path: KeyPath) -> tuple[int, str]:
        table = self.table(value, path, _Table({"code": self.positive, "name": self.title}))
        if table["code"] > 99:
            self.fail((*path, "code"), "erwartet eine Zahl von 1 bis 99")
        return table["code"], table["name"]

    def measure(self, value: Any, path: KeyPath, field_names: Mapping[int, str]) -> MeasureRecord:
        if isinstance(value, dict) and isinstance(value.get("number"), str):
            self.numbers[path[-1]] = value["number"]  # type: ignore[index]
        table = self.table(value, path, self._measure)
        number = table["number"]
        if number.partition(".")[0] != str(table["field"]):
            self.fail((*path, "field"), f"passt nicht zur Nummer {number}")
        if table["field"] not in field_names:
            self.fail((*path, "field"), f"Handlungsfeld {table['field']} fehlt unter [[fields]]")
        state = MeasureState(
            milestones=_by_id(self, (*path, "milestones"), table.pop("milestones") or []),
            delays=_by_id(self, (*path, "delays"), table.pop("delays") or []),
            **{key: item for key, item in table.items() if key != "events"},
        )
        events = [
            self.event(item, (*path, "events", index), number)
            for index, item in enumerate(table["events"])
        ]
        events.sort(key=replay.EVENT_ORDER)
        self._check_history(path, state, events)
        return MeasureRecord(state, tuple(events))

    def milestone(self, value: Any, path: KeyPath) -> MilestoneState:
        table = self.table(value, path, self._milestone)
        if table["done_on"] is not None and not table["done"]:
            self.fail((*path, "done_on"), "ein Datum „erreicht am“ braucht done = true")
        return MilestoneState(**table)

    def delay(self, value: Any, path: KeyPath) -> DelayState:
        table = self.table(value, path, self._delay)
        return DelayState(**table)

    # --- events

    def event(self, value: Any, path: KeyPath, number: str) -> Event:
        table = self.table(value, path, self._event)
        kind = EventKind(table["kind"])
        details_path = (*path, "details")
        details = self.details(kind, table["details"] or {}, details_path)
        event = Event(
            id=table["id"],
            number=number,
            kind=kind.value,
            occurred_at=table["occurred_at"],
            author=table["author"],
            note=table["note"],
            from_status=table["from_status"],
            to_status=table["to_status"],
            details=details,
            where=f"{self.name}:{self.lines.line(path)}",
        )
        self._check_statuses(event, path)
        return event

    def details(self, kind: EventKind, value: Any, path: KeyPath) -> dict[str, Any]:
        details = self.details_table(value, path, (self._specs or self._detail_specs())[kind])
        if ("resolved_delays" in details) != ("resolved_on" in details):
            self.fail(path, "„resolved_delays“ und „resolved_on“ gehören zusammen")
        return details

    def _detail_specs(self) -> dict[EventKind, _Table]:
        """The checks of each kind's details (required, optional): built once per reader."""
        text, title, loose, ident = self.text, self.title, self.loose_date, self.identifier
        nullable_loose = self.optional(loose)
        measure_payload = {
            "number": self.number,
            "field": self.positive,
            "title": title,
            "unit": text,
            "origin": self.origin,
            "origin_date": loose,
            "status": self.status,
            "note": text,
        }
        milestone_values: dict[str, Check] = {
            "title": title,
            "due": nullable_loose,
            "done": self.boolean,
            "done_on": nullable_loose,
            "note": text,
        }
        delay_values: dict[str, Check] = {
            "cause": title,
            "since": loose,
            "until": nullable_loose,
            "resolved_on": nullable_loose,
            "note": text,
        }
        measure_values: dict[str, Check] = {
            "title": title,
            "unit": text,
            "note": text,
            "status": self.status,
        }

        def payload(values: Mapping[str, Check]) -> Check:
            spec = _Table(values)
            return lambda item, item_path: self.details_table(item, item_path, spec)

        def changes(values: Mapping[str, Check]) -> Check:
            pairs = {name: _Table({"old": check, "new": check}) for name, check in values.items()}

            def pair(name: str) -> Check:
                return lambda item, item_path: [
                    *self.details_table(item, item_path, pairs[name]).values()
                ]

            def checked(item: Any, item_path: KeyPath) -> dict[str, list[Any]]:
                names = self.mapping_of(self.one_of(tuple(values)), lambda v, p: v)(item, item_path)
                return {name: pair(name)(names[name], (*item_path, name)) for name in names}

            return checked

        def ids(item: Any, item_path: KeyPath) -> list[str]:
            return self.nonempty_list_of(ident)(item, item_path)

        def fields_of(values: Mapping[str, Check]) -> Check:
            """Some of these fields, each with its value (an undo's restore)."""

            spec = _Table({}, values)

            def checked(item: Any, item_path: KeyPath) -> dict[str, Any]:
                return self.details_table(item, item_path, spec)

            return lambda item, item_path: _nonempty(self, item_path, checked(item, item_path))

        delay_payload = payload(
            {"id": ident, "cause": title, "since": loose, "until": nullable_loose, "note": text}
        )
        restore = _Table(
            {},
            {
                "measure": fields_of({name: measure_values[name] for name in MEASURE_RESTORABLE}),
                "milestones": self.mapping_of(ident, fields_of(milestone_values)),
                "delays": self.mapping_of(ident, fields_of(delay_values)),
                "delete_milestones": ids,
                "delete_delays": ids,
            },
        )
        specs: dict[EventKind, _Table] = {
            EventKind.MEASURE_CREATED: _Table({"measure": payload(measure_payload)}),
            EventKind.MEASURE_EDITED: _Table(
                {"changes": changes({name: measure_values[name] for name in MEASURE_EDITABLE})}
            ),
            EventKind.STATUS_CHANGED: _Table(
                {},
                {
                    "receiving_unit": text,
                    "reason": text,
                    "delay": delay_payload,
                    "resolved_delays": ids,
                    "resolved_on": loose,
                },
            ),
            EventKind.MILESTONE_ADDED: _Table(
                {"milestone": payload({"id": ident, **milestone_values})}
            ),
            EventKind.MILESTONE_COMPLETED: _Table(
                {"milestone_id": ident, "title": text, "done_on": loose}
            ),
            EventKind.MILESTONE_EDITED: _Table(
                {
                    "milestone_id": ident,
                    "title": text,
                    "changes": changes(
                        {name: milestone_values[name] for name in ("title", "due", "note")}
                    ),
                }
            ),
            EventKind.DELAY_LOGGED: _Table({"delay": delay_payload}),
            EventKind.DELAY_RESOLVED: _Table({"resolved_delays": ids, "resolved_on": loose}),
            EventKind.CHANGE_UNDONE: _Table(
                {
                    "undone_event_id": ident,
                    "undone_kind": self.kind,
                    "undone_summary": text,
                    "restore": lambda item, item_path: self.details_table(item, item_path, restore),
                }
            ),
        }
        self._specs = specs
        return specs

    def _check_statuses(self, event: Event, path: KeyPath) -> None:
        """Which events carry a status move, and that a move is one the workflow allows."""
        moves = event.kind in (EventKind.STATUS_CHANGED, EventKind.CHANGE_UNDONE)
        if event.kind == EventKind.MEASURE_CREATED:
            if event.from_status is not None:
                self.fail((*path, "from_status"), "gehört nicht zum Anlegen einer Maßnahme")
            if event.to_status != event.details["measure"]["status"]:
                self.fail((*path, "to_status"), "muss dem Status der angelegten Maßnahme gleichen")
        elif not moves and (event.from_status or event.to_status):
            key = "from_status" if event.from_status else "to_status"
            self.fail((*path, key), f"gehört nicht zu einem Ereignis der Art {event.kind}")
        elif (event.from_status is None) != (event.to_status is None):
            self.fail(path, "„from_status“ und „to_status“ gehören zusammen")
        if event.kind == EventKind.STATUS_CHANGED:
            if event.from_status is None:
                self.fail(path, "ein Statuswechsel braucht „from_status“ und „to_status“")
            details = event.details
            try:
                # Checked against the event's own from_status, not the replayed status: after
                # a merge, a move may follow another side's move (see koordinator.core.replay).
                check_move(
                    Status(event.from_status),
                    Status(event.to_status),  # type: ignore[arg-type]
                    note=event.note,
                    receiving_unit=details.get("receiving_unit", ""),
                    reason=details.get("reason", ""),
                    has_delay="delay" in details,
                )
            except KoordinatorError as error:
                self.fail((*path, "to_status"), str(error))
            if "delay" in details and event.to_status != Status.DELAYED:
                self.fail((*path, "details", "delay"), "eine neue Verzögerung gehört zu „delayed“")

    def _check_history(self, path: KeyPath, state: MeasureState, events: list[Event]) -> None:
        """The state the file claims must be the state its own events produce."""
        if not events:
            self.fail((*path, "events"), "jede Maßnahme braucht ihren Verlauf")
        created = [event for event in events if event.kind == EventKind.MEASURE_CREATED]
        if len(created) != 1 or events[0] is not created[0]:
            self.fail(
                (*path, "events"),
                "der Verlauf muss mit genau einem „measure_created“ beginnen",
            )
        payload = created[0].details["measure"]
        if payload["number"] != state.number:
            self.fail(
                (*path, "events"),
                f"„measure_created“ legt Maßnahme {payload['number']} an, nicht {state.number}",
            )
        difference = next(replay.differences(state, replay.replay(events).state), None)
        if difference is None:
            return
        rows = getattr(state, difference.key, None)
        if difference.row_id is None:
            where: KeyPath = (*path, difference.key)
        elif isinstance(rows, dict) and difference.row_id in rows:
            where = (
                *path,
                difference.key,
                list(rows).index(difference.row_id),
                difference.field or "id",
            )
        else:
            where = (*path, difference.key)
        if difference.row_id is None or difference.field is not None:
            problem = (
                f"„{plain(difference.stored)}“ passt nicht zum Verlauf der Datei "
                f"(dort: „{plain(difference.derived)}“)"
            )
        else:
            problem = str(difference)
        self.fail(where, problem)

    def _check_unique(self, records: Sequence[MeasureRecord]) -> None:
        seen: dict[tuple[str, str], str] = {}
        for index, record in enumerate(records):
            keys = [("Nummer", record.state.number)]
            keys += [("Meilenstein", row_id) for row_id in record.state.milestones]
            keys += [("Verzögerung", row_id) for row_id in record.state.delays]
            keys += [("Ereignis", event.id) for event in record.events]
            for key in keys:
                if key in seen:
                    self.fail(
                        ("measures", index),
                        f"{key[0]} {key[1]} kommt schon bei Maßnahme {seen[key]} vor",
                    )
                seen[key] = record.state.number

    def _check_summary(self, value: Any, computed: Summary) -> None:
        nested: dict[str, Check] = {
            "by_status": self.mapping_of(self.text, self.integer),
            "by_field": self.mapping_of(self.text, self.integer, empty=True),
        }
        summary = self.table(
            value,
            ("summary",),
            _Table(
                {"total": self.integer, "from_catalogue": self.integer, "added": self.integer}
                | nested
            ),
        )
        for key, expected in computed.to_toml().items():
            if summary[key] != expected:
                self.fail(
                    ("summary", key),
                    f"{plain(summary[key])} passt nicht zu den Maßnahmen der Datei "
                    f"(gezählt: {plain(expected)})",
                )


def _by_id(reader: _Reader, path: KeyPath, rows: list[Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for index, row in enumerate(rows):
        if row.id in result:
            reader.fail((*path, index, "id"), f"{row.id} steht doppelt")
        result[row.id] = row
    return result


def _nonempty(reader: _Reader, path: KeyPath, table: dict[str, Any]) -> dict[str, Any]:
    if not table:
        reader.fail(path, "erwartet mindestens einen Wert")
    return table


def _display(path: KeyPath, *, with_positions: bool) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part + 1}]" if with_positions else ""
        else:
            text += f".{part}" if text else part
    return text


def _kind_of(value: Any) -> str:
    match value:
        case bool():
            return "true/false"
        case int() | float():
            return f"die Zahl {value}"
        case str():
            return f"Text „{value}“"
        case dict():
            return "eine Tabelle"
        case list():
            return "eine Liste"
        case date():
            return f"ein TOML-Datum ({value}; bitte in Anführungszeichen)"
        case None:
            return "nichts"
    return type(value).__name__


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
        yield f"  + {local_time(event.occurred_at)} {event.author}: {event.summary}{note}"
    if before is not None and before.status != after.status:
        yield f"  Status jetzt: {Status(after.status).label} (bisher {Status(before.status).label})"
    for conflict in merge.conflicts:
        yield f"  Konflikt: beide Seiten haben {conflict.number} nach dem gemeinsamen Stand geändert –"
        for label, events in conflict.sides:
            changes = "; ".join(
                f"{e.summary} ({e.author}, {local_time(e.occurred_at)})" for e in events
            )
            yield f"    {label}: {changes}"
        winner = conflict.winner
        yield (
            f"    es gilt die spätere Änderung: {winner.summary} ({winner.author}, "
            f"{local_time(winner.occurred_at)}); die andere bleibt im Verlauf"
        )
    yield from (f"  Hinweis: {text}" for text in merge.skipped)


def _entries(count: int, *, accusative: bool = False) -> str:
    if count == 1:
        return "1 neuen Eintrag" if accusative else "1 neuer Eintrag"
    return f"{count} neue Einträge"


def import_snapshots(
    database: Database, paths: Sequence[Path], *, dry_run: bool = False
) -> ImportResult:
    """Merge snapshot files into the database: all read and checked first, then one write
    transaction (or, with `dry_run`, only a read)."""
    with _no_cycle_collection():
        return _import_snapshots(database, paths, dry_run=dry_run)


def _import_snapshots(database: Database, paths: Sequence[Path], *, dry_run: bool) -> ImportResult:
    snapshots = tuple(load(path) for path in paths)
    session_of = database.read if dry_run else database.write
    with session_of() as session:
        local_fields = {field.code: field.name for field in session.scalars(select(FieldOfAction))}
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
        local = Source(THIS_DATABASE, replay.load_events(session))
        plan = replay.plan_merge(local, [snapshot.source_events() for snapshot in snapshots])
        if not dry_run:
            session.add_all(
                FieldOfAction(code=code, name=name) for code, name in new_fields.items()
            )
            session.flush()
            replay.apply_plan(session, plan)
    return ImportResult(
        snapshots=snapshots,
        plan=plan,
        new_fields=tuple(sorted(new_fields.items())),
        notes=tuple(notes),
        dry_run=dry_run,
    )
