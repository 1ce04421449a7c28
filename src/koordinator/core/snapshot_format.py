"""What a snapshot holds, independent of how it is written (`koordinator.core.snapshot`) or
read (`koordinator.core.snapshot_reader`): the format's name and version, and the
`Snapshot` of a whole catalogue.  The format is documented key by key in
docs/snapshot-format.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from koordinator.core.records import Event, Measure, Origin
from koordinator.core.replay import Replayed, Source
from koordinator.core.workflow import Status

FORMAT_NAME = "koordinator-snapshot"
FORMAT_VERSION = 2
# In event details, the names of keys whose value is "none" (TOML has no null).
NULL_KEY = "_null"
THIS_DATABASE = "diese Datenbank"


@dataclass(frozen=True)
class MeasureRecord:
    """A measure as the snapshot carries it: its state and its whole history."""

    state: Measure
    events: tuple[Event, ...]  # in replay order
    # `replay.replay(events)`, where the reader has done it (to check `state` against it).
    replayed: Replayed | None = field(default=None, compare=False, repr=False)


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
        # A withdrawn measure is carried (its history stays) but counted nowhere.
        states = [record.state for record in self.measures if not record.state.withdrawn]
        by_field = {str(code): 0 for code in self.fields}
        for state in states:
            by_field[str(state.field_code)] = by_field.get(str(state.field_code), 0) + 1
        return Summary(
            total=len(states),
            from_catalogue=sum(state.origin == Origin.CATALOGUE for state in states),
            added=sum(state.origin == Origin.ADDED for state in states),
            by_status={s.value: sum(state.status == s.value for state in states) for s in Status},
            by_field=by_field,
        )

    def source_events(self) -> Source:
        return Source(
            self.name,
            {record.state.uid: record.events for record in self.measures},
            {
                record.state.uid: record.replayed
                for record in self.measures
                if record.replayed is not None
            },
        )
