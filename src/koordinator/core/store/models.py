"""SQLAlchemy 2.x typed models mapped onto `schema.sql` (the canonical schema).

The models are passive: they hold no session and never commit.  tests/test_schema.py proves
that `Base.metadata` and `schema.sql` agree on tables, columns, keys, checks and indexes; the
check texts below are therefore written exactly as in `schema.sql`.  The date-format checks
use SQLite's GLOB and are emitted only on SQLite; everything else is portable SQL.
"""

# No `from __future__ import annotations` here: with real (not string) annotations the
# declarative mapping need not evaluate forty `Mapped[...]` strings at every start (~3 ms).
import json
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from koordinator.core import records
from koordinator.core.history import EventKind, decode_details, event_values

# Defined beside the file checks, which must not import SQLAlchemy; the same version.
from koordinator.core.store.sqlite_file import SCHEMA_VERSION as SCHEMA_VERSION
from koordinator.core.workflow import Status

# The codes the database accepts are the domain's enums, in their order: a new status or
# event kind changes these checks, and tests/test_schema.py then asks for it in schema.sql.
STATUS_CODES = tuple(status.value for status in Status)
EVENT_KINDS = tuple(kind.value for kind in EventKind)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> str:
    test = f"{column} IN ({_quoted(values)})"
    return f"{column} IS NULL OR {test}" if nullable else test


def _loose_date(column: str, *, nullable: bool = False) -> str:
    year = "[12][0-9][0-9][0-9]"
    globs = " OR ".join(
        f"{column} GLOB '{pattern}'"
        for pattern in (year, f"{year}-[01][0-9]", f"{year}-[01][0-9]-[0-3][0-9]")
    )
    return f"{column} IS NULL OR {globs}" if nullable else globs


def _timestamp(column: str) -> str:
    digits = "[0-9]"
    pattern = (
        f"{digits * 4}-{digits * 2}-{digits * 2}T{digits * 2}:{digits * 2}:{digits * 2}"
        f".{digits * 6}Z"
    )
    return f"length({column}) = 27 AND {column} GLOB '{pattern}'"


def _not_blank(column: str) -> str:
    return f"length(trim({column})) > 0"


def _sqlite_check(text: str, name: str) -> CheckConstraint:
    """A check that uses GLOB, which only SQLite understands."""
    return CheckConstraint(text, name=name).ddl_if(dialect="sqlite")


class JSONText(TypeDecorator[dict[str, Any]]):
    """A dict stored as JSON text with sorted keys (stable bytes, portable column type)."""

    impl = Text
    cache_ok = True

    # One encoder for all values: json.dumps with options builds a new one per call, which
    # costs more than encoding a small dict (an import writes 100,000).
    _encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Any) -> str:
        return JSONText._encode(value or {})

    def process_result_value(self, value: str | None, dialect: Any) -> dict[str, Any]:
        return decode_details(value)


class Base(DeclarativeBase):
    # Every model here is mapped to a table of schema.sql (DeclarativeBase allows any
    # FromClause): the writes insert into and update these tables.
    __table__: ClassVar[Table]


class FieldOfAction(Base):
    __tablename__ = "field_of_action"
    __table_args__ = (
        CheckConstraint("code BETWEEN 1 AND 99", name="field_code_range"),
        CheckConstraint(_not_blank("name"), name="field_name_not_blank"),
    )

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)


class Measure(Base):
    __tablename__ = "measure"
    __table_args__ = (
        UniqueConstraint("uid"),
        CheckConstraint("number = field_code || '.' || sequence", name="measure_number_matches"),
        CheckConstraint("sequence >= 1", name="measure_sequence_positive"),
        CheckConstraint(_not_blank("title"), name="measure_title_not_blank"),
        CheckConstraint(_one_of("origin", ("catalog", "added")), name="measure_origin_known"),
        CheckConstraint(_one_of("status", STATUS_CODES), name="measure_status_known"),
        CheckConstraint("revision >= 1", name="measure_revision_positive"),
        CheckConstraint("withdrawn IN (0, 1)", name="measure_withdrawn_flag"),
        _sqlite_check(_loose_date("origin_date"), "measure_origin_date_format"),
        _sqlite_check(_timestamp("updated_at"), "measure_updated_at_format"),
        Index(
            "ux_measure_number",
            "number",
            unique=True,
            sqlite_where=text("withdrawn = 0"),
            postgresql_where=text("withdrawn = 0"),
        ),
        Index("ix_measure_field_sequence", "field_code", "sequence"),
        Index("ix_measure_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(Text)
    number: Mapped[str] = mapped_column(Text)
    field_code: Mapped[int] = mapped_column(Integer, ForeignKey("field_of_action.code"))
    sequence: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text, server_default="", default="")
    origin: Mapped[str] = mapped_column(Text)
    origin_date: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    revision: Mapped[int] = mapped_column(Integer, server_default=text("1"), default=1)
    updated_at: Mapped[str] = mapped_column(Text)
    # create_constraint=False: the check is the named measure_withdrawn_flag above.
    withdrawn: Mapped[bool] = mapped_column(
        Boolean(create_constraint=False), server_default=text("0"), default=False
    )


class Milestone(Base):
    __tablename__ = "milestone"
    __table_args__ = (
        CheckConstraint(_not_blank("title"), name="milestone_title_not_blank"),
        CheckConstraint("done IN (0, 1)", name="milestone_done_flag"),
        CheckConstraint("done_on IS NULL OR done = 1", name="milestone_done_on_needs_done"),
        _sqlite_check(_loose_date("due", nullable=True), "milestone_due_format"),
        _sqlite_check(_loose_date("done_on", nullable=True), "milestone_done_on_format"),
        _sqlite_check(_timestamp("created_at"), "milestone_created_at_format"),
        Index("ix_milestone_measure_done", "measure_id", "done"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    measure_id: Mapped[int] = mapped_column(Integer, ForeignKey("measure.id"))
    title: Mapped[str] = mapped_column(Text)
    due: Mapped[str | None] = mapped_column(Text)
    # create_constraint=False: the check is the named milestone_done_flag above.
    done: Mapped[bool] = mapped_column(
        Boolean(create_constraint=False), server_default=text("0"), default=False
    )
    done_on: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    created_at: Mapped[str] = mapped_column(Text)


class Delay(Base):
    __tablename__ = "delay"
    __table_args__ = (
        CheckConstraint(_not_blank("cause"), name="delay_cause_not_blank"),
        _sqlite_check(_loose_date("since"), "delay_since_format"),
        _sqlite_check(_loose_date("until", nullable=True), "delay_until_format"),
        _sqlite_check(_loose_date("resolved_on", nullable=True), "delay_resolved_on_format"),
        _sqlite_check(_timestamp("created_at"), "delay_created_at_format"),
        Index("ix_delay_measure_resolved", "measure_id", "resolved_on"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    measure_id: Mapped[int] = mapped_column(Integer, ForeignKey("measure.id"))
    cause: Mapped[str] = mapped_column(Text)
    since: Mapped[str] = mapped_column(Text)
    until: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    resolved_on: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text)


class HistoryEvent(Base):
    __tablename__ = "history_event"
    __table_args__ = (
        CheckConstraint(_one_of("kind", EVENT_KINDS), name="event_kind_known"),
        CheckConstraint(_not_blank("author"), name="event_author_not_blank"),
        CheckConstraint(
            _one_of("from_status", STATUS_CODES, nullable=True), name="event_from_status_known"
        ),
        CheckConstraint(
            _one_of("to_status", STATUS_CODES, nullable=True), name="event_to_status_known"
        ),
        CheckConstraint(
            "kind <> 'status_changed' OR (from_status IS NOT NULL AND to_status IS NOT NULL)",
            name="event_status_move_complete",
        ),
        _sqlite_check(_timestamp("occurred_at"), "event_occurred_at_format"),
        Index("ix_event_measure_time", "measure_id", "occurred_at"),
        Index("ix_event_time", "occurred_at"),
        Index("ix_event_author_time", "author", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    measure_id: Mapped[int] = mapped_column(Integer, ForeignKey("measure.id"))
    kind: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONText, server_default="{}", default=dict)
    conflict: Mapped[str | None] = mapped_column(Text)


def new_event(measure: Measure, kind: EventKind, **fields: Any) -> HistoryEvent:
    """A new event of `measure`, not yet added to a session; `fields` as for event_values."""
    return HistoryEvent(**event_values(measure.number, measure.id, kind, **fields))


# A measure's columns in the order of `records.columns(records.Measure)`, its id as the
# record's `key`: plain rows are several times faster to load than ORM objects.
MEASURE_COLUMNS = tuple(
    Measure.id.label("key") if name == "key" else getattr(Measure, name)
    for name in records.columns(records.Measure)
)
MEASURE_NAMES = records.columns(records.Measure)


def measure_record(row: Any) -> records.Measure:
    """The record of a row of MEASURE_COLUMNS."""
    return records.Measure(**dict(zip(MEASURE_NAMES, row, strict=True)))
