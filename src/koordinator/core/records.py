"""The catalogue's records: one type each for a measure, a milestone, a delay and a history
event, used by every layer.

Replay derives them from events, the store reads and writes them, snapshots carry them, the
views the doors show extend them with what depends on the day (`koordinator.core.views`).
A field is declared once, here:

* its annotation names the check a value read from a file must pass (`Title`, `LooseIso`, …:
  the snapshot reader's validators are derived from them);
* its metadata (`role`) says what else it is: its German label, whether a user edits it,
  whether the event that creates the row carries it, whether snapshots hold it, and its
  name in files where that differs from the field's.

The column lists of the store's reads, the snapshot's tables, the creation events' payloads,
the edits an event may carry and what an undo may restore are computed from these
declarations (`names`, `payload`, `table`), so a new field is added here and in the store's
schema, not in every module that handles a measure.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, TypeAlias, TypeVar

# The checks a value read from a snapshot must pass, by name (snapshot_reader._Reader has a
# method of each name).  The annotations below are these types.
Text: TypeAlias = Annotated[str, "text"]  # one line, may be empty
Title: TypeAlias = Annotated[str, "title"]  # one line, not blank
Note: TypeAlias = Annotated[str, "note"]  # may span lines
LooseIso: TypeAlias = Annotated[str, "loose_date"]  # "2021", "2021-06", "2021-06-30"
Stamp: TypeAlias = Annotated[str, "stamp"]  # a UTC timestamp of 27 characters
Identifier: TypeAlias = Annotated[str, "identifier"]  # a UUID
Number: TypeAlias = Annotated[str, "number"]  # a measure's number, "3.6"
StatusCode: TypeAlias = Annotated[str, "status"]
KindCode: TypeAlias = Annotated[str, "kind"]
OriginCode: TypeAlias = Annotated[str, "origin"]
Positive: TypeAlias = Annotated[int, "positive"]
Flag: TypeAlias = Annotated[bool, "boolean"]


class Origin(StrEnum):
    """Where a measure comes from: the council's catalogue, or added since."""

    CATALOGUE = "catalog"
    ADDED = "added"


@dataclass(frozen=True)
class Role:
    """What a record's field is, besides its type."""

    label: str = ""  # German, in messages and the UI
    editable: bool = False  # a user changes it with an edit event (measure_edited, …)
    restorable: bool = False  # an undo may set it back
    in_payload: bool = True  # the event that creates the row carries it
    in_snapshot: bool = True  # a snapshot's table of the row holds it
    key: str = ""  # its name in snapshots and payloads, if not the field's name
    multiline: bool = False  # a text that may span lines
    hint: str = ""  # an example an empty input shows (German)


def role(**values: Any) -> dict[str, Role]:
    """A field's metadata: its `Role`."""
    return {"role": Role(**values)}


_NOT_IN_FILES = role(in_payload=False, in_snapshot=False)


@dataclass
class Milestone:
    id: Identifier
    title: Title = field(metadata=role(label="Titel", editable=True, restorable=True))
    due: LooseIso | None = field(metadata=role(label="Termin", editable=True, restorable=True))
    done: Flag = field(metadata=role(restorable=True))
    done_on: LooseIso | None = field(metadata=role(restorable=True))
    note: Note = field(metadata=role(label="Notiz", editable=True, restorable=True, multiline=True))
    # The time of the event that created it; kept in the database, not in files.
    created_at: str = field(default="", compare=False, metadata=_NOT_IN_FILES)


@dataclass
class Delay:
    id: Identifier
    cause: Title = field(metadata=role(label="Ursache", editable=True, restorable=True))
    since: LooseIso = field(metadata=role(label="seit", editable=True, restorable=True))
    until: LooseIso | None = field(metadata=role(label="bis", editable=True, restorable=True))
    resolved_on: LooseIso | None = field(metadata=role(restorable=True, in_payload=False))
    note: Note = field(metadata=role(label="Notiz", editable=True, restorable=True, multiline=True))
    created_at: str = field(default="", compare=False, metadata=_NOT_IN_FILES)

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None


@dataclass
class Measure:
    """A measure: its fields, and its milestones and delays in the order the events created
    them (the snapshot's order)."""

    number: Number = field(metadata=role(restorable=True))
    field_code: Positive = field(metadata=role(key="field"))
    title: Title = field(metadata=role(label="Titel", editable=True, restorable=True))
    unit: Text = field(
        metadata=role(label="Verantwortlich", editable=True, restorable=True, hint="z. B. FB 12")
    )
    origin: OriginCode = field(metadata=role())
    origin_date: LooseIso = field(metadata=role())
    status: StatusCode = field(metadata=role(restorable=True))
    note: Note = field(metadata=role(label="Notiz", editable=True, restorable=True, multiline=True))
    revision: Positive = field(metadata=role(in_payload=False))
    updated_at: Stamp = field(metadata=role(in_payload=False))
    # What identifies the measure in every database: the id of the event that created it
    # (numbers can be reassigned).  Files of format 1 lack it; it is their creation's id.
    uid: Identifier = field(default="", metadata=role(in_payload=False, key="id"))
    # Withdrawn by its author (the undo of its creation): in no list, count or report.
    withdrawn: Flag = field(default=False, metadata=role(restorable=True, in_payload=False))
    milestones: dict[str, Milestone] = field(default_factory=dict, metadata=role(in_payload=False))
    delays: dict[str, Delay] = field(default_factory=dict, metadata=role(in_payload=False))
    # The store's handle on the row (its primary key); not part of what the catalogue says.
    key: int = field(default=0, compare=False, metadata=_NOT_IN_FILES)

    @property
    def sequence(self) -> int:
        return int(self.number.partition(".")[2])


# The scalar fields of a measure, without its rows (the lists', the store's row).
_ROW_FIELDS = {"milestones", "delays"}


@dataclass(frozen=True, slots=True)
class Event:
    """One history event, independent of any database: its measure is `measure` (the
    measure's `uid`); `number` is the measure's number where the event was read, for
    messages (it may differ between databases, so it is no part of the event's identity)."""

    id: Identifier
    number: str = dataclasses.field(compare=False)
    kind: KindCode
    occurred_at: Stamp
    author: Title
    note: Note
    from_status: StatusCode | None
    to_status: StatusCode | None
    details: dict[str, Any]
    measure: Identifier = ""
    # Where the event was read ("a.toml:120"); for messages only, not part of its identity.
    where: str = dataclasses.field(default="", compare=False)

    @property
    def order(self) -> tuple[str, str]:
        """Replay order: by time, ties broken by id so that every database agrees."""
        return (self.occurred_at, self.id)


Record: TypeAlias = Measure | Milestone | Delay


@functools.cache
def roles(record_type: type) -> Mapping[str, Role]:
    """Every field of `record_type` (in declaration order) with its role."""
    return {
        item.name: item.metadata.get("role", Role()) for item in dataclasses.fields(record_type)
    }


def names(record_type: type, test: Callable[[Role], bool] = lambda role: True) -> tuple[str, ...]:
    """The fields of `record_type` whose role passes `test`, in declaration order."""
    return _names(record_type, test)


@functools.cache
def _names(record_type: type, test: Callable[[Role], bool]) -> tuple[str, ...]:
    return tuple(name for name, field_role in roles(record_type).items() if test(field_role))


def _editable(field_role: Role) -> bool:
    return field_role.editable


def _restorable(field_role: Role) -> bool:
    return field_role.restorable


def _in_payload(field_role: Role) -> bool:
    return field_role.in_payload


def _in_snapshot(field_role: Role) -> bool:
    return field_role.in_snapshot


def editable(record_type: type) -> tuple[str, ...]:
    """What a user edits (measure_edited, milestone_edited, delay_edited), in declaration
    order."""
    return names(record_type, _editable)


def restorable(record_type: type) -> tuple[str, ...]:
    """What an undo may set back."""
    return names(record_type, _restorable)


def columns(record_type: type) -> tuple[str, ...]:
    """The store's columns of the record (a measure's without its rows, with its key)."""
    return tuple(name for name in roles(record_type) if name not in _ROW_FIELDS)


def snapshot_names(record_type: type) -> tuple[str, ...]:
    """The fields a snapshot's table of the record holds (a measure's: without its rows)."""
    return _snapshot_names(record_type)


@functools.cache
def _snapshot_names(record_type: type) -> tuple[str, ...]:
    return tuple(name for name in names(record_type, _in_snapshot) if name not in _ROW_FIELDS)


def file_key(record_type: type, name: str) -> str:
    """The field's name in snapshots and payloads."""
    return roles(record_type)[name].key or name


def payload(record_type: type, record: Any) -> dict[str, Any]:
    """What the event that creates `record` (a `record_type`, or a row with its fields)
    keeps of it (measure_created, milestone_added, a new delay), under the files' names."""
    return {
        file_key(record_type, name): getattr(record, name)
        for name in names(record_type, _in_payload)
    }


RecordT = TypeVar("RecordT", Measure, Milestone, Delay)


def added_later(record_type: type, name: str) -> bool:
    """Whether the field has a default: a field added after files were first written has
    one, and a file (a payload, a table) written before may lack it."""
    return name in _defaults(record_type)


@functools.cache
def _defaults(record_type: type) -> Mapping[str, Any]:
    return {
        item.name: item.default
        for item in dataclasses.fields(record_type)
        if item.default is not dataclasses.MISSING and item.name not in ("created_at", "key")
    }


_Read = tuple[str, str, Callable[[Mapping[str, Any]], Any]]


def _reading(record_type: type, fields: tuple[str, ...]) -> tuple[_Read, ...]:
    return _reading_of(record_type, fields)


@functools.cache
def _reading_of(record_type: type, fields: tuple[str, ...]) -> tuple[_Read, ...]:
    """(field, key in files, how its value is taken from a file's mapping) for `fields`:
    worked out once per kind of record, not once per value (a large import reads a million)."""
    defaults = _defaults(record_type)
    result: list[_Read] = []
    for name in fields:
        key = file_key(record_type, name)
        take: Callable[[Mapping[str, Any]], Any]
        if name not in defaults:
            take = operator.itemgetter(key)
        elif checks(record_type)[name][1]:  # nullable: none stays none
            take = operator.methodcaller("get", key)
        else:
            default = defaults[name]

            def take(values: Mapping[str, Any], key: str = key, default: Any = default) -> Any:
                value = values.get(key)
                return default if value is None else value

        result.append((name, key, take))
    return tuple(result)


def from_payload(record_type: type[RecordT], values: Mapping[str, Any], **rest: Any) -> RecordT:
    """The record a creation event's payload describes (`payload`'s inverse); `rest` gives
    what the payload does not hold."""
    plan = _reading(record_type, names(record_type, _in_payload))
    return record_type(**{name: take(values) for name, _, take in plan}, **rest)


def payload_names(record_type: type) -> tuple[str, ...]:
    """The fields a creation event's payload holds (`payload`)."""
    return names(record_type, _in_payload)


def from_table(record_type: type[RecordT], values: Mapping[str, Any], **rest: Any) -> RecordT:
    """The record a snapshot's table describes (`table`'s inverse); `rest` gives what the
    table does not hold."""
    plan = _reading(record_type, snapshot_names(record_type))
    return record_type(**{name: take(values) for name, _, take in plan}, **rest)


def table(record: Record) -> dict[str, Any]:
    """The record's values as a snapshot's table holds them, under the files' names."""
    record_type = type(record)
    plan = _reading(record_type, snapshot_names(record_type))
    return {key: getattr(record, name) for name, key, _ in plan}


def label(record_type: type, name: str) -> str:
    """The field's German label (its name if it has none, or is no field of the record)."""
    field_role = roles(record_type).get(name)
    return (field_role.label if field_role else "") or name


@functools.cache
def checks(record_type: type) -> Mapping[str, tuple[Any, bool]]:
    """Each field's check name (see the aliases above) and whether it may be none, from its
    annotation: what the snapshot reader derives its validators from."""
    hints = typing.get_type_hints(record_type, include_extras=True)
    return {name: check_of(hints[name]) for name in roles(record_type) if name in hints}


def check_of(annotation: Any) -> tuple[Any, bool]:
    """("title", False) for `Title`, ("loose_date", True) for `LooseIso | None`: the check
    named by an `Annotated` type's metadata (a name, or a marker object of
    `koordinator.core.history`), and whether the value may be none; ("", …) for an
    annotation without a check (a record's rows, its key)."""
    nullable = False
    arguments = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, _UnionType) and type(None) in arguments:
        nullable = True
        annotation = next(item for item in arguments if item is not type(None))
    if typing.get_origin(annotation) is Annotated:
        return typing.get_args(annotation)[1], nullable
    return "", nullable


_UnionType = type(int | None)
