"""Reading a snapshot file: `load` / `loads` parse it and validate all of it; every problem
is a `SnapshotError` naming FILE:LINE (tomllib gives no positions, so `_Lines` finds them).

Text in the layout `koordinator.core.snapshot.dumps` writes is parsed by rtoml
(`_fast_toml`); anything else, and every error, by tomllib.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import tomllib
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import rtoml

from koordinator.core import history, records, replay
from koordinator.core.cycles import no_cycle_collection
from koordinator.core.dates import TIMESTAMP_FORMAT, from_iso, timestamp
from koordinator.core.errors import SnapshotError, os_reason
from koordinator.core.history import KINDS, Changes, EventKind, Ids, Payload, RestoreSpec
from koordinator.core.numbers import SEQUENCE_LIMIT, within_limit
from koordinator.core.records import Delay, Event, Measure, Milestone, Origin
from koordinator.core.replay import plain
from koordinator.core.snapshot_format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    NULL_KEY,
    MeasureRecord,
    Snapshot,
    Summary,
)
from koordinator.core.text import (
    MAX_TEXT_LENGTH,
    REFUSED_IN_LINE,
    REFUSED_IN_NOTE,
    clip,
    text_problem,
)
from koordinator.core.workflow import Status

KeyPath = tuple[str | int, ...]

# A quoted string as runs of plain characters between escapes: written (?:[^"\\]|\\.)* the
# regular expression engine keeps a state per character, gigabytes for a 10 MB string.
_BASIC_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_KEY = rf"(?:[A-Za-z0-9_-]+|{_BASIC_STRING}|'[^']*')"
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
        found = self._at.get(path)  # a table's, as every event's: one look-up
        if found is not None:
            return found
        if not self._complete:
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
                if match is not None:
                    table = self._header(arrays, _key_parts(match.group(1)), double, number)
                continue
            match = _DOTTED.match(text)
            if match is None or not text[match.end() :].startswith("="):
                continue
            path = (*table, *_key_parts(match.group(1)))
            self._at[path] = number
            rest = text[match.end() + 1 :]
            if not _SIMPLE_VALUE.fullmatch(rest):  # else: one line, no elements to note
                number = self._value(lines, number, rest, path)

    @classmethod
    def of_headers(cls, text: str) -> _Lines:
        """The lines of the tables of a text in the layout of `dumps` (checked before):
        there every line that starts with "[" is a header, and only such a line."""
        lines = cls(text, {})
        arrays: dict[KeyPath, int] = {}
        keys_of: dict[str, list[str]] = {}  # a few kinds of header, 250,000 headers
        number, position = 1, 0
        find, count = text.find, text.count
        # Each header's first character; -1: no more.
        start = 0 if text.startswith("[") else find("\n[") + 1 or -1
        while start >= 0:
            number += count("\n", position, start)
            position = start
            double = text.startswith("[[", start)
            name = text[start + 2 if double else start + 1 : find("]", start)]
            keys = keys_of.get(name)
            if keys is None:
                keys = keys_of[name] = name.split(".")
            lines._header(arrays, keys, double, number)
            start = find("\n[", start) + 1 or -1
        return lines

    def _header(
        self, arrays: dict[KeyPath, int], keys: Sequence[str], double: bool, number: int
    ) -> KeyPath:
        """Note a [table] or [[array]] header's line; the table it opens."""
        # A quarter of a million headers: paths built with `+` (RUF005), as in `table`.
        path = self._resolve(arrays, keys[:-1]) + (keys[-1],)  # noqa: RUF005
        if double:
            count = arrays[path] = arrays.get(path, 0) + 1
            self._at.setdefault(path, number)
            path = path + (count - 1,)  # noqa: RUF005
        self._at[path] = number
        return path

    @staticmethod
    def _resolve(arrays: Mapping[KeyPath, int], keys: Sequence[str]) -> KeyPath:
        """A header's path, each array of tables standing for its last element."""
        path: KeyPath = ()
        for key in keys:
            path = path + (key,)  # noqa: RUF005
            count = arrays.get(path)  # an array's count is 1 or more
            if count is not None:
                path = path + (count - 1,)  # noqa: RUF005
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
                    # To the next character that may end the string (a long string is
                    # skipped in C, not character by character).
                    stop = _STRING_STOPS[quote[0]].search(rest, index)
                    if stop is None:
                        break
                    index = stop.start()
                    if rest.startswith(quote, index):
                        index += len(quote)
                        quote = ""
                        continue
                    index += 2 if rest[index] == "\\" and quote[0] == '"' else 1
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


# Where a string may end: in a basic string a backslash escapes what follows.
_STRING_STOPS = {'"': re.compile(r'["\\]'), "'": re.compile("'")}


# A value that ends on its line and has no elements: a string on one line, a number, a
# word (true, a date), each maybe followed by a comment.  (Not triple quotes: '' or "" is
# one string here, and nothing may follow it but a comment.)
_SIMPLE_VALUE = re.compile(rf"[ \t]*(?:{_BASIC_STRING}|'[^']*'|[A-Za-z0-9_:.+-]+)[ \t]*(?:#.*)?")


_SIMPLE_LINE = re.compile(r"[ \t]*([A-Za-z0-9_-]+)[ \t]*=" + _SIMPLE_VALUE.pattern)


@functools.lru_cache(maxsize=1024)
def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(
        tomllib.loads(f"k = {part}")["k"] if part[0] in "\"'" else part
        for part in _KEY_PART.findall(dotted)
    )


# The longest line a snapshot can need: the longest text the catalogue stores, every
# character escaped as \UXXXXXXXX, with its key.  A longer line is refused before TOML is
# parsed (tomllib reads such a line character by character).
MAX_LINE_LENGTH = 10 * MAX_TEXT_LENGTH + 1_000
_OVERLONG_LINE = re.compile(rf"^[^\n]{{{MAX_LINE_LENGTH + 1}}}", re.MULTILINE)
# Where a value nests this deep, the file goes wrong: a snapshot nests a few levels.
_DEEP_NESTING = 100
_NESTING_TOKENS = re.compile(r"""[\[\]{}\n]|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|'[^'\n]*'""")
_LONG_NUMBER = re.compile(r"[0-9][0-9_]{4300}")  # int() refuses more than 4,300 digits
# How far an imported event may lie ahead of the importing machine's clock: clocks of
# laptops go wrong by minutes, a time zone set wrong by hours; more is not a real moment.
MAX_AHEAD_HOURS = 24
MAX_AHEAD = timedelta(hours=MAX_AHEAD_HOURS)


def load(path: Path, *, now: datetime | None = None) -> Snapshot:
    """Read and validate a snapshot file; SnapshotError says what and where.  Given `now`
    (the reading machine's clock, when the file is to be imported), an event or export
    dated more than MAX_AHEAD later is refused."""
    name = str(path)
    try:
        data = _read_regular_file(path)
    except FileNotFoundError:
        raise SnapshotError(f"{name}: Datei nicht gefunden") from None
    except OSError as error:
        raise SnapshotError(f"{name}: kann nicht gelesen werden ({os_reason(error)})") from None
    try:
        # A byte-order mark is what some Windows editors add; it is not part of the content.
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SnapshotError(f"{name}:{line}: kein UTF-8-Text") from None
    del data  # not kept beside the text while it is parsed
    return loads(text, name, now=now)


_NOT_A_FILE = (
    (stat.S_ISDIR, "ist ein Ordner, keine Snapshot-Datei"),
    (stat.S_ISFIFO, "ist eine benannte Pipe (FIFO), keine Snapshot-Datei"),
    (stat.S_ISCHR, "ist ein Gerät, keine Snapshot-Datei"),
    (stat.S_ISBLK, "ist ein Gerät, keine Snapshot-Datei"),
    (stat.S_ISSOCK, "ist ein Socket, keine Snapshot-Datei"),
)


def _read_regular_file(path: Path) -> bytes:
    """The bytes of `path` if it is a regular file (a symbolic link to one is fine).

    A FIFO would block the read until someone writes into it, a device such as /dev/zero
    never ends: the type is checked before anything is read, and the file is opened
    without blocking, so that a FIFO put in its place meanwhile is refused too.
    """
    _refuse_unless_regular(path, path.stat().st_mode)
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as file:
        _refuse_unless_regular(path, os.fstat(descriptor).st_mode)
        return file.read()


def _refuse_unless_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    problem = next((text for test, text in _NOT_A_FILE if test(mode)), "keine gewöhnliche Datei")
    raise SnapshotError(f"{path}: {problem}")


# --- reading the snapshot's own layout fast ----------------------------------------------------
#
# tomllib reads about three megabytes a second; a 10,000-measure snapshot has 42.  rtoml
# (Rust) reads it ten times as fast, but it reads TOML 1.1: it accepts what TOML 1.0 and
# tomllib refuse (the escapes \e and \xHH, inline tables over several lines, times without
# seconds).  So rtoml reads only text in the small part of TOML that `dumps` writes, where
# the two agree: [table] and [[array]] headers of bare keys, `key = value` lines with a bare
# key and a string (JSON's escapes), an integer of at most 18 digits or true/false, and
# arrays of those, one element a line.  Anything else, and any text rtoml refuses (a key
# twice, a table defined twice), goes to tomllib, which then gives the answer or the error
# as before.  tests/test_snapshot_fast_read.py holds both to that.

# A run is at most a line long (MAX_LINE_LENGTH): a longer string goes to tomllib's way, where
# its line is refused before anything is parsed.
_PLAIN_CHARS = rf'[^"\\\x00-\x08\x0a-\x1f\x7f]{{0,{MAX_LINE_LENGTH}}}'
_LAYOUT_STRING = (  # runs of plain characters between escapes: much faster to match
    rf'"{_PLAIN_CHARS}(?:\\(?:[btnfr"\\]|u(?![dD][89abAB])[0-9a-fA-F]{{4}}){_PLAIN_CHARS})*"'
)
_LAYOUT_VALUE = rf"(?:{_LAYOUT_STRING}|-?(?:0|[1-9][0-9]{{0,17}})|true|false)"
_BARE = r"[A-Za-z0-9_-]+"
_DOTTED_BARE = rf"{_BARE}(?:\.{_BARE})*"
# Text of nothing but lines of the layout (an array with its elements and its closing line as
# one), all in one match: possessive, so no line once matched is tried again.
_LAYOUT_TEXT = re.compile(
    rf"(?:^(?:\[\[{_DOTTED_BARE}\]\]|\[{_DOTTED_BARE}\]|{_BARE} = (?:{_LAYOUT_VALUE}|\[\])"
    rf"|{_BARE} = \[\n(?:    {_LAYOUT_VALUE},\n)*\]|)\n)*+",
    re.MULTILINE,
)
# Line breaks of str.splitlines (which _Lines counts by) other than \n.
_OTHER_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _fast_toml(text: str) -> tuple[dict[str, Any], _Lines] | None:
    """`tomllib.loads(text)` for text in the layout `dumps` writes, and the lines of its
    tables as `_Lines` would find them; None for any other text."""
    if not text.endswith("\n") or _OTHER_LINE_BREAKS.search(text):
        return None
    if _LAYOUT_TEXT.fullmatch(text) is None:
        return None  # a line of another kind
    try:
        data = rtoml.loads(text)
    except rtoml.TomlParsingError:
        return None
    return data, _Lines.of_headers(text)


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)")


def loads(text: str, name: str = "<snapshot>", *, now: datetime | None = None) -> Snapshot:
    """Parse and validate snapshot text completely (`now`: as for `load`)."""
    with no_cycle_collection():
        return _loads(text, name, now)


def _loads(text: str, name: str, now: datetime | None) -> Snapshot:
    fast = _fast_toml(text)
    if fast is not None:
        data, lines = fast
        return _Reader(name, lines, now).snapshot(data)
    overlong = _OVERLONG_LINE.search(text)
    if overlong:
        end = text.find("\n", overlong.start())
        length = (len(text) if end < 0 else end) - overlong.start()
        raise SnapshotError(
            f"{name}:{_line_at(text, overlong.start())}: Text zu lang ({length} Zeichen in "
            f"einer Zeile, höchstens {MAX_LINE_LENGTH})"
        )
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
    except RecursionError:  # tomllib descends once per nested array or inline table
        raise SnapshotError(
            f"{_deeply_nested(text, name)}: kein gültiges TOML (zu tief verschachtelt)"
        ) from None
    except ValueError as error:  # int() of a number with more than 4,300 digits
        number = _LONG_NUMBER.search(text)
        if number is None:
            raise SnapshotError(f"{name}: kein gültiges TOML ({error})") from None
        raise SnapshotError(
            f"{name}:{_line_at(text, number.start())}: kein gültiges TOML (Zahl mit mehr als "
            "4300 Ziffern)"
        ) from None
    return _Reader(name, _Lines(text), now).snapshot(data)


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _deeply_nested(text: str, name: str) -> str:
    """FILE:LINE where arrays and inline tables are first nested _DEEP_NESTING deep (FILE
    if nowhere: tomllib ran out of stack for another reason)."""
    depth, line = 0, 1
    for token in _NESTING_TOKENS.finditer(text):
        char = token.group()
        if char == "\n":
            line += 1
        elif char in ("[", "{"):
            depth += 1
            if depth > _DEEP_NESTING:
                return f"{name}:{line}"
        elif char in ("]", "}"):
            depth = max(depth - 1, 0)
    return name


# [0-9], not \d: \d would let other scripts' digits through, which SQLite's checks refuse.
_LOOSE_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER = re.compile(r"[1-9][0-9]?\.([1-9][0-9]*)")  # field 1-99; the sequence: within_limit

Check = Callable[[Any, KeyPath], Any]
_STATUSES = frozenset(status.value for status in Status)
_KINDS = frozenset(kind.value for kind in EventKind)
_KIND_OF = {kind.value: kind for kind in EventKind}  # a dict look-up, not an enum call
_ORIGINS = tuple(origin.value for origin in Origin)


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


class _RecordChecks(NamedTuple):
    """Some fields of a record, in declaration order: (name in files, check, nullable, added
    later: an older file may lack it, `records.added_later`)."""

    entries: tuple[tuple[str, Check, bool, bool], ...]

    @property
    def required(self) -> dict[str, Check]:
        return {
            key: check for key, check, nullable, later in self.entries if not (nullable or later)
        }

    @property
    def optional(self) -> dict[str, Check]:
        """A nullable field's key may be missing from a snapshot's table, and an added one."""
        return {key: check for key, check, nullable, later in self.entries if nullable or later}

    @property
    def table(self) -> _Table:
        """A snapshot's table of the record."""
        return _Table(self.required, self.optional)

    def values(self, optional: Callable[[Check], Check]) -> dict[str, Check]:
        """Every key, a nullable one's check wrapped by `optional` (lets none through)."""
        return {
            key: optional(check) if nullable else check for key, check, nullable, _ in self.entries
        }

    def payload(self, optional: Callable[[Check], Check]) -> _Table:
        """A payload's table: every key (a nullable one perhaps none), except that a field
        added later may be missing."""
        values = self.values(optional)
        later = {key for key, _, _, added in self.entries if added}
        return _Table(
            {key: check for key, check in values.items() if key not in later},
            {key: check for key, check in values.items() if key in later},
        )


class _Reader:
    """Validates the parsed TOML, turning it into a `Snapshot` or a located SnapshotError."""

    def __init__(self, name: str, lines: _Lines, now: datetime | None = None) -> None:
        self.name = name
        self.lines = lines
        # Stored timestamps are of one width, UTC: text order is time order.
        self._now = None if now is None else timestamp(now)
        self._latest = None if now is None else timestamp(now + MAX_AHEAD)
        self.numbers: dict[int, str] = {}  # measure index -> number, for messages
        self._specs: dict[EventKind, _Table] = {}
        self._dates: set[str] = set()  # loose dates found valid
        measure = self.record_checks(Measure, in_files=records.snapshot_names(Measure))
        self._measure = _Table(
            {**measure.required, "events": self.list_of(lambda item, item_path: item)},
            {
                **measure.optional,
                "milestones": self.list_of(self.milestone),
                "delays": self.list_of(self.delay),
            },
        )
        self._milestone = self.record_checks(Milestone, records.snapshot_names(Milestone)).table
        self._delay = self.record_checks(Delay, records.snapshot_names(Delay)).table
        self._event = _Table(
            {
                "id": self.identifier,
                "kind": self.kind,
                "occurred_at": self.moment,
                "author": self.title,
                "note": self.note,
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

    def table(
        self, value: Any, path: KeyPath, spec: _Table, *, absent: bool = True
    ) -> dict[str, Any]:
        """A table with exactly these keys; optional ones that are missing come back None
        (with `absent`; else they stay missing)."""
        if not isinstance(value, dict):
            self.fail(path, f"erwartet eine Tabelle, gefunden {_kind_of(value)}")
        if not spec.allowed.issuperset(value):
            unknown = sorted(value.keys() - spec.allowed)
            allowed = ", ".join(spec.names)
            self.fail((*path, unknown[0]), f"unbekannter Schlüssel – erlaubt: {allowed}")
        # A quarter of a million tables, a million values: a table with every key (only
        # allowed ones, as many) in one pass, and the key paths here and in `list_of` and
        # `mapping_of` built with `+`, twice as fast as unpacking (RUF005).
        if len(value) == len(spec.checks):
            return {
                key: check(value[key], path + (key,))  # noqa: RUF005
                for key, check, _ in spec.checks
            }
        result: dict[str, Any] = {}
        for key, check, required in spec.checks:
            item = value.get(key, _ABSENT)
            if item is not _ABSENT:
                result[key] = check(item, path + (key,))  # noqa: RUF005
            elif required:
                self.fail(path, f"Schlüssel „{key}“ fehlt")
            elif absent:
                result[key] = None
        return result

    def details_table(self, value: Any, path: KeyPath, spec: _Table) -> dict[str, Any]:
        """A table inside event details: `_null` names keys without value; optional keys
        stay absent (the details are kept exactly as the database had them)."""
        return self.table(self.nulls(value, path), path, spec, absent=False)

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
                key_check(key, path + (key,)): value_check(item, path + (key,))  # noqa: RUF005
                for key, item in value.items()
            }

        return check

    def list_of(self, item_check: Check) -> Check:
        def check(value: Any, path: KeyPath) -> list[Any]:
            if not isinstance(value, list):
                self.fail(path, f"erwartet eine Liste, gefunden {_kind_of(value)}")
            return [
                item_check(item, path + (index,))  # noqa: RUF005
                for index, item in enumerate(value)
            ]

        return check

    def nonempty_list_of(self, item_check: Check) -> Check:
        def check(value: Any, path: KeyPath) -> list[Any]:
            items: list[Any] = self.list_of(item_check)(value, path)
            if not items:
                self.fail(path, "darf nicht leer sein")
            return items

        return check

    def optional(self, check: Check) -> Check:
        return lambda value, path: None if value is None else check(value, path)

    def text(self, value: Any, path: KeyPath) -> str:
        """A single-line text (a title, a unit, an author, a reason, …)."""
        # The common case first, in one look: a string without a character to refuse.
        if (
            value.__class__ is str
            and len(value) <= MAX_TEXT_LENGTH
            and not REFUSED_IN_LINE.search(value)
        ):
            return value
        return self._refused_text(value, path, multiline=False)

    def note(self, value: Any, path: KeyPath) -> str:
        """A text that may span lines: a note."""
        if (
            value.__class__ is str
            and len(value) <= MAX_TEXT_LENGTH
            and not REFUSED_IN_NOTE.search(value)
        ):
            return value
        return self._refused_text(value, path, multiline=True)

    def _refused_text(self, value: Any, path: KeyPath, *, multiline: bool) -> str:
        if not isinstance(value, str):
            self.fail(path, f"erwartet Text in Anführungszeichen, gefunden {_kind_of(value)}")
        if "\x00" in value:  # SQLite's text functions stop at a NUL; no one types one
            self.fail(path, "Text mit NUL-Zeichen (\\u0000)")
        # The rule the catalogue service keeps too.
        problem = text_problem(value, multiline=multiline)
        if problem:
            self.fail(path, problem)
        return value

    def title(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        if not text.strip():
            self.fail(path, "darf nicht leer sein")
        return text

    def integer(self, value: Any, path: KeyPath) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"erwartet eine ganze Zahl, gefunden {_kind_of(value)}")
        return value

    def positive(self, value: Any, path: KeyPath) -> int:
        number = self.integer(value, path)
        if number < 1:
            self.fail(path, f"erwartet eine Zahl ab 1, gefunden {value}")
        return number

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

    def moment(self, value: Any, path: KeyPath) -> str:
        """A timestamp of when something happened: not later than the importing machine's
        clock allows (`MAX_AHEAD`): an event dated 2999 would be replayed after every
        change made since, its state standing over theirs on every machine it reaches."""
        text = self.stamp(value, path)
        if self._latest is not None and text > self._latest:
            self.fail(
                path,
                f"„{text}“ liegt mehr als {MAX_AHEAD_HOURS} Stunden nach der Uhr dieses "
                f"Rechners (jetzt {self._now})",
            )
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
        text = self.text(value, path)
        if text not in _ORIGINS:
            self.fail(path, f"„{value}“ – erwartet {' oder '.join(_ORIGINS)}")
        return text

    def identifier(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        # Exactly the texts with str(uuid.UUID(text)) == text: lower-case 8-4-4-4-12 hex.
        if not _UUID.fullmatch(text):
            self.fail(path, f"„{text}“ ist keine UUID (z. B. 5f0c2a3e-6f43-4c1e-9a57-6b6f6f7264e1)")
        return text

    def number(self, value: Any, path: KeyPath) -> str:
        text = self.text(value, path)
        match = _NUMBER.fullmatch(text)
        if match is None:
            self.fail(path, f"„{text}“ ist keine Maßnahmennummer – erwartet z. B. „3.6“")
        if not within_limit(match.group(1)):
            self.fail(path, f"„{text}“ ist zu groß – {SEQUENCE_LIMIT} je Handlungsfeld")
        return text

    def one_of(self, names: Sequence[str]) -> Check:
        def check(value: Any, path: KeyPath) -> str:
            if not isinstance(value, str) or value not in names:
                self.fail(path, f"„{value}“ – erwartet {', '.join(names)}")
            return value

        return check

    # --- the snapshot

    def snapshot(self, data: dict[str, Any]) -> Snapshot:
        """The snapshot, read by the reader of its format version (FORMAT_READERS)."""
        return FORMAT_READERS[self._check_format(data)](self, data)

    def format_1(self, data: dict[str, Any]) -> Snapshot:
        """Format version 1, as `koordinator.core.snapshot` wrote it from the start.  When
        the format changes, this stays as it is: files of FB 12's archive are version 1."""
        top = self.table(
            data,
            (),
            _Table(
                {
                    "format": self.text,
                    "version": self.integer,
                    "exported_at": self.moment,
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
            measures=tuple(
                sorted(records, key=lambda r: (r.state.field_code, r.state.sequence, r.state.uid))
            ),
            name=self.name,
        )
        self._check_summary(data["summary"], snapshot.summary())
        return snapshot

    def _check_format(self, data: dict[str, Any]) -> int:
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
        if version not in FORMAT_READERS:
            self.fail(("version",), f"unbekannte Snapshot-Version {version}")
        return version

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
        state = records.from_table(
            Measure,
            table,
            milestones=_by_id(self, (*path, "milestones"), table["milestones"] or []),
            delays=_by_id(self, (*path, "delays"), table["delays"] or []),
        )
        # Format 1 has no id of a measure: it is the id of the event that created it.
        state.uid = state.uid or _creation_id(table["events"])
        events = [
            self.event(item, (*path, "events", index), number, state.uid)
            for index, item in enumerate(table["events"])
        ]
        self._check_undos(path, events)
        events.sort(key=replay.EVENT_ORDER)
        replayed = self._check_history(path, state, events)
        return MeasureRecord(state, tuple(events), replayed)

    def milestone(self, value: Any, path: KeyPath) -> Milestone:
        table = self.table(value, path, self._milestone)
        if table["done_on"] is not None and not table["done"]:
            self.fail((*path, "done_on"), "ein Datum „erreicht am“ braucht done = true")
        return records.from_table(Milestone, table)

    def delay(self, value: Any, path: KeyPath) -> Delay:
        return records.from_table(Delay, self.table(value, path, self._delay))

    # --- events

    def event(self, value: Any, path: KeyPath, number: str, measure: str) -> Event:
        table = self.table(value, path, self._event)
        kind = _KIND_OF[table["kind"]]  # a known kind: checked by `kind`
        details = self.details(kind, table["details"] or {}, (*path, "details"))
        event = Event(
            id=table["id"],
            number=number,
            kind=table["kind"],
            occurred_at=table["occurred_at"],
            author=table["author"],
            note=table["note"],
            from_status=table["from_status"],
            to_status=table["to_status"],
            details=details,
            measure=measure,
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
        """The checks of each kind's details, from its TypedDict (`history.KINDS`): built
        once per reader."""
        specs = {}
        for code, rules in KINDS.items():
            hints = typing.get_type_hints(rules.details, include_extras=True)
            required_keys = rules.details.__required_keys__  # type: ignore[attr-defined]
            required = {key: self.check_for(hint) for key, hint in hints.items()}
            specs[EventKind(code)] = _Table(
                {key: check for key, check in required.items() if key in required_keys},
                {key: check for key, check in required.items() if key not in required_keys},
            )
        self._specs = specs
        return specs

    def check_for(self, annotation: Any) -> Check:
        """The check of a value annotated `annotation` (records' aliases, history's markers);
        a nullable one lets none through."""
        name, nullable = records.check_of(annotation)
        check: Check
        match name:
            case Payload(record_type=record_type):
                check = self.payload(record_type)
            case Changes(record_type=record_type):
                check = self.changes(record_type)
            case Ids():
                check = self.nonempty_list_of(self.identifier)
            case RestoreSpec():
                check = self.restore()
            case str():
                check = getattr(self, name)
        return self.optional(check) if nullable else check

    def record_checks(self, record_type: type, in_files: Sequence[str]) -> _RecordChecks:
        """The checks of a record's fields `in_files`, by their names in files; a nullable
        field may be missing from a table."""
        entries = []
        for name in in_files:
            check_name, nullable = records.checks(record_type)[name]
            key = records.file_key(record_type, name)
            later = records.added_later(record_type, name)
            entries.append((key, getattr(self, check_name), nullable, later))
        return _RecordChecks(tuple(entries))

    def payload(self, record_type: type) -> Check:
        """A new row's payload in an event: every key, a nullable one perhaps none."""
        checks = self.record_checks(record_type, records.payload_names(record_type))
        spec = checks.payload(self.optional)
        return lambda item, item_path: self.details_table(item, item_path, spec)

    def changes(self, record_type: type) -> Check:
        """An edit's {field: {old, new}} for some of the record's editable fields."""
        values = self.record_checks(record_type, records.editable(record_type)).values(
            self.optional
        )
        pairs = {name: _Table({"old": check, "new": check}) for name, check in values.items()}

        def checked(item: Any, item_path: KeyPath) -> dict[str, list[Any]]:
            names = self.mapping_of(self.one_of(tuple(values)), lambda v, p: v)(item, item_path)
            return {
                name: [*self.details_table(names[name], (*item_path, name), pairs[name]).values()]
                for name in names
            }

        return checked

    def restore(self) -> Check:
        """An undo's state operations: some restorable fields of the measure, of its
        milestones and delays (by id), milestones to bring back, and rows to delete."""

        def fields_of(record_type: type) -> Check:
            checks = self.record_checks(record_type, records.restorable(record_type))
            spec = _Table({}, checks.values(self.optional))
            return lambda item, item_path: _nonempty(
                self, item_path, self.details_table(item, item_path, spec)
            )

        ids = self.nonempty_list_of(self.identifier)
        # A deleted milestone comes back whole: every field an undo may set.
        whole = _Table(
            self.record_checks(Milestone, records.restorable(Milestone)).values(self.optional)
        )
        spec = _Table(
            {},
            {
                "measure": fields_of(Measure),
                "milestones": self.mapping_of(self.identifier, fields_of(Milestone)),
                "add_milestones": self.mapping_of(
                    self.identifier,
                    lambda item, item_path: self.details_table(item, item_path, whole),
                ),
                "delays": self.mapping_of(self.identifier, fields_of(Delay)),
                "delete_milestones": ids,
                "delete_delays": ids,
            },
        )
        return lambda item, item_path: self.details_table(item, item_path, spec)

    def _check_statuses(self, event: Event, path: KeyPath) -> None:
        """What the event's kind asks of its statuses (`history.Kind.problem`)."""
        problem = KINDS[event.kind].problem(event)
        if problem is not None:
            self.fail((*path, *problem.key.split(".")) if problem.key else path, problem.text)

    def _check_undos(self, path: KeyPath, events: Sequence[Event]) -> None:
        """An undo names an earlier event of the same measure, and what it says of it (its
        kind, its line, what its reversal touches) is what that event gives: a file
        cannot make an undo do or say something else (`history.ChangeUndone.apply` derives
        its effect anyway)."""
        by_id = {event.id: event for event in events}
        for index, event in enumerate(events):
            if event.kind != EventKind.CHANGE_UNDONE:
                continue
            where = (*path, "events", index, "details")
            details = event.details
            undone = by_id.get(details["undone_event_id"])
            if undone is None or undone.order >= event.order:
                self.fail(
                    (*where, "undone_event_id"),
                    f"Ereignis {details['undone_event_id']} gibt es vor diesem „change_undone“ "
                    "im Verlauf der Maßnahme nicht",
                )
            if not KINDS[undone.kind].undoable:
                self.fail(
                    (*where, "undone_event_id"),
                    f"ein Ereignis der Art {undone.kind} kann nicht rückgängig gemacht werden",
                )
            claims: dict[KeyPath, tuple[Any, Any]] = {
                ("undone_kind",): (details["undone_kind"], undone.kind),
                ("undone_summary",): (details["undone_summary"], history.summary(undone)),
            }
            # An undone event that did not apply in this file's order (a change merged since
            # came first) makes its undo a conflict that restores nothing: what the undo's
            # author derived before that merge is then not this order's to check.
            undone_applied = replay.applied(events, undone.id)
            derived: dict[str, Any] = {}
            if undone_applied:
                derived = history.inverse(undone, replay.state_before(events, undone.id))
                restore = details["restore"]
                claims |= {
                    ("restore", key): (restore.get(key), derived.get(key))
                    for key in sorted(restore.keys() | derived.keys())
                }
            for key_path, (claimed, expected) in claims.items():
                # The values an undo restores are what stood before the undone event in its
                # author's database; an earlier change merged since changes them (the replay
                # derives them anyway): only what it touches must be the undone event's.
                if key_path[0] == "restore":
                    differs = history.touched(claimed) != history.touched(expected)
                else:
                    differs = claimed != expected
                if differs:
                    shown = key_path if claimed is not None else key_path[:1]
                    self.fail(
                        (*where, *shown),
                        f"passt nicht zum rückgängig gemachten Ereignis {undone.id} "
                        f"(„{clip(plain(claimed), 60)}“, erwartet „{clip(plain(expected), 60)}“)",
                    )
            if (
                undone_applied
                and event.to_status is not None
                and "status" not in derived.get("measure", {})
            ):
                self.fail(
                    (*path, "events", index, "to_status"),
                    f"passt nicht zum rückgängig gemachten Ereignis {undone.id}",
                )

    def _check_history(self, path: KeyPath, state: Measure, events: list[Event]) -> replay.Replayed:
        """The state the file claims must be the state its own events produce (returned)."""
        if not events:
            self.fail((*path, "events"), "jede Maßnahme braucht ihren Verlauf")
        created = replay.creation(events)
        if created is None or any(e.kind == EventKind.MEASURE_CREATED for e in events[1:]):
            self.fail(
                (*path, "events"),
                "der Verlauf muss mit genau einem „measure_created“ beginnen",
            )
        replayed = replay.replay(events)
        difference = next(replay.differences(state, replayed.state), None)
        if difference is not None:
            self._fail_history(path, state, difference)
        return replayed

    def _fail_history(self, path: KeyPath, state: Measure, difference: replay.Difference) -> None:
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
            # A withdrawn measure's number is free again.
            keys = [] if record.state.withdrawn else [("Nummer", record.state.number)]
            keys.append(("Kennung", record.state.uid))
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


# Every format version this koordinator reads, with its reader: a newer version gets its
# own entry, and the older ones keep theirs.
# Format 2 adds keys to format 1 (a measure's `id` and `withdrawn`, four kinds of event, the
# day of a status move): format 1's reader reads both, a format-1 file lacking them gets
# their defaults (`records.added_later`).
FORMAT_READERS: dict[int, Callable[[_Reader, dict[str, Any]], Snapshot]] = {
    1: _Reader.format_1,
    2: _Reader.format_1,
}


def _by_id(reader: _Reader, path: KeyPath, rows: list[Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for index, row in enumerate(rows):
        if row.id in result:
            reader.fail((*path, index, "id"), f"{row.id} steht doppelt")
        result[row.id] = row
    return result


def _creation_id(events: Any) -> str:
    """The id of the first "measure_created" among a file's (not yet checked) events; ""
    if there is none (the history check then says what is wrong)."""
    for item in events if isinstance(events, list) else ():
        if isinstance(item, dict) and item.get("kind") == EventKind.MEASURE_CREATED:
            found = item.get("id")
            return found if isinstance(found, str) else ""
    return ""


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
