"""What koordinator asks of a store, in the domain's terms: the one seam between the core's
rules and a database.

`ScreenStore` is what the UI's first paint and the council report read; the SQLite store
serves it on the standard library's `sqlite3` alone (`fast_reads.Reads`), so that neither
imports SQLAlchemy.  `Store` is the whole of it: those reads, and the catalogue as a whole
for export, import and their checks.  The SQLite implementation is `sqlite_store.SqliteStore`;
a second store (PostgreSQL) implements these Protocols and nothing else.

Signatures carry views (`koordinator.core.views`), replay's plain records
(`koordinator.core.replay`) and the domain's enums; no driver or SQLAlchemy type.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the first paint imports this module (ReportRows): only what it must
    from koordinator.core.records import Delay, Event, Measure, Milestone
    from koordinator.core.replay import MergePlan
    from koordinator.core.views import FieldView, MeasureDetail, MeasureView
    from koordinator.core.workflow import Status


@dataclass(frozen=True)
class ReportRows:
    """The rows every figure of the council report comes from, read in one transaction.

    Plain tuples (a report on 10,000 measures unpacks them, it reads no attribute by name);
    the statuses as their stored codes.
    """

    fields: Sequence[tuple[int, str]]  # code, name; by code
    # id, number, field_code, sequence, title, status, unit, origin
    measures: Sequence[tuple[int, str, int, int, str, str, str, str]]
    # measure_id, title, due, done, done_on: the open ones and those done in the period
    # (a superset, narrowed by the report), in insertion order
    milestones: Sequence[tuple[int, str, str | None, int, str | None]]
    # measure_id, cause, since, until, note: the open ones, by since
    open_delays: Sequence[tuple[int, str, str, str | None, str]]
    # measure_id, details: the moves into the final status a measure is in now, oldest first
    final_moves: Sequence[tuple[int, Mapping[str, Any]]]


class ScreenStore(Protocol):
    """The reads of the screen and of the report, each in one read transaction."""

    def fields(self) -> list[FieldView]: ...

    def list_measures(
        self,
        *,
        today: date,
        field_code: int | None = None,
        status: Status | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[MeasureView]: ...

    def measure(self, number: str, *, today: date) -> MeasureDetail: ...

    def report_rows(self, *, period_start: date, today: date) -> ReportRows:
        """Milestones done from `period_start`'s year up to `today` are among the rows."""
        ...

    def damaged_rows(self) -> AbstractContextManager[None]:
        """Inside it, a row this version cannot read (ROW_ERRORS) is a damaged database:
        one DatabaseError naming the store."""
        ...

    def close(self) -> None: ...


class CatalogueRead(Protocol):
    """The whole catalogue inside one transaction."""

    def field_names(self) -> dict[int, str]:
        """Every field of action's name, by code in ascending order."""
        ...

    def events(self) -> dict[str, list[Event]]:
        """Every history event, by measure (its uid), in replay order; ValueError for a
        kind or a status this version does not know."""
        ...

    def numbers(self) -> dict[str, str]:
        """The number of every measure not withdrawn, by uid."""
        ...

    def states(self, events: Mapping[str, Sequence[Event]]) -> dict[str, Measure]:
        """Every measure as stored, in catalogue order; its milestones and delays in the
        order `events` created them."""
        ...


class CatalogueMerge(CatalogueRead, Protocol):
    """`CatalogueRead` inside the write transaction of an import."""

    def add_fields(self, names: Mapping[int, str]) -> None: ...

    def apply_merge(self, plan: MergePlan) -> None:
        """The plan's new events, and the replayed state of every measure they touch."""
        ...


class ChangeRead(Protocol):
    """What the service's changes read, inside one transaction."""

    def measure(self, number: str) -> Measure | None:
        """The measure numbered `number` (already normalised), if there is one."""
        ...

    def measure_by_uid(self, uid: str) -> Measure | None:
        """The measure identified by `uid`, withdrawn or not."""
        ...

    def check_history_readable(self, measure: Measure) -> None:
        """ROW_ERRORS unless every event of the measure's history can be read."""
        ...

    def latest_event_time(self) -> str | None:
        """The `occurred_at` of the newest event the database holds (of any measure)."""
        ...

    def latest_author(self, measure_id: int) -> str | None:
        """Who recorded the measure's newest event."""
        ...

    def conflicts(self, measure_id: int | None = None) -> dict[str, str]:
        """Why a merge did not apply an event (of one measure), by event id."""
        ...

    def events_newest_first(
        self, *, measure_id: int | None = None, author: str | None = None, limit: int | None = None
    ) -> Iterator[Event]:
        """History events (of one measure, by one author), newest first."""
        ...


class Change(ChangeRead, Protocol):
    """One user action's writes: everything inside `Store.changing()` commits together."""

    def field_codes(self) -> list[int]: ...

    def last_sequence(self, field_code: int) -> int | None: ...

    def add_measure(self, measure: Measure, *, sequence: int) -> Measure:
        """Insert it, `sequence` in its field (its `id` is ignored); the stored measure with
        its new id."""
        ...

    def edit_measure(self, measure_id: int, texts: Mapping[str, str]) -> None:
        """New title, unit and/or note."""
        ...

    def set_number(self, measure_id: int, number: str) -> None:
        """Another number (and with it, field and sequence)."""
        ...

    def save_state(self, measure_id: int, *, status: str, revision: int, updated_at: str) -> None:
        """The measure's status, revision and time of its last change."""
        ...

    def add_event(self, values: Mapping[str, Any]) -> None:
        """A history event, from `history.event_values`."""
        ...

    def add_delay(self, delay: Mapping[str, Any]) -> None:
        """A delay row: id, measure_id, cause, since, until, note, resolved_on, created_at."""
        ...

    def open_delay_ids(self, measure_id: int) -> list[str]:
        """The measure's unresolved delays, by id."""
        ...

    def resolve_open_delays(self, measure_id: int, on: str) -> None: ...

    def milestones(self, measure_id: int) -> list[Milestone]: ...

    def milestone(self, measure_id: int, milestone_id: str) -> Milestone | None:
        """The milestone, if it is one of this measure's."""
        ...

    def add_milestone(self, measure_id: int, milestone: Milestone) -> None: ...

    def update_milestone(self, milestone_id: str, values: Mapping[str, Any]) -> None: ...

    def delete_milestone(self, milestone_id: str) -> None: ...

    def delays(self, measure_id: int) -> list[Delay]:
        """The measure's delays, by since."""
        ...

    def update_delay(self, delay_id: str, values: Mapping[str, Any]) -> None: ...

    def author_of_newer_change(self, measure_id: int, *, after: str, other_than: str) -> str | None:
        """The author of the measure's newest event after `after` by anyone but `other_than`."""
        ...

    def restore(self, measure_id: int, restore: Mapping[str, Any], *, now: str) -> None:
        """Apply the state operations of a "change_undone" event recorded at `now` (the
        time of the rows it brings back)."""
        ...

    def measure_views(self, measures: Sequence[Measure], *, today: date) -> list[MeasureView]:
        """The list's views of measures written in this transaction."""
        ...


class Store(ScreenStore, Protocol):
    """The whole store of one catalogue."""

    @property
    def name(self) -> str:
        """What a snapshot names as its source (the database file's name)."""
        ...

    @property
    def schema_version(self) -> int:
        """The version of the store's schema, as a snapshot records it."""
        ...

    @property
    def read_only(self) -> bool: ...

    def reading_catalogue(self) -> AbstractContextManager[CatalogueRead]:
        """One read transaction over the whole catalogue."""
        ...

    def merging(self, *, dry_run: bool) -> AbstractContextManager[CatalogueMerge]:
        """One write transaction (with `dry_run`, a read one that writes nothing): every
        change inside it commits together or not at all."""
        ...

    def reading_changes(self) -> AbstractContextManager[ChangeRead]:
        """One read transaction for the reads of the service's changes (history, undo)."""
        ...

    def changing(self) -> AbstractContextManager[Change]:
        """One user action's write transaction (it waits for the write lock first)."""
        ...

    def warm_up(self) -> None:
        """Connect, and prepare what every status and delay change starts with; no write."""
        ...
