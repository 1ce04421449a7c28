"""The council report ("Aktueller Umsetzungsstand"): its figures, and how they are written.

`compute_figures` reads what the report shows in one read transaction (so that every figure
of one report describes the same moment) and returns `ReportFigures`, plain immutable data that
the CLI renders, the UI's dashboard shows, and tests check.  `render_markdown` and
`render_text` turn the figures into the German report; `write_report` does both and writes
the file (`koordinator.core.files`).  Nothing here knows about terminals.

The "changes since" section takes plain `Change` lines; the caller builds them from the
snapshot diff, so that this module does not depend on how snapshots are read.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from koordinator.core.cycles import no_cycle_collection
from koordinator.core.dates import (
    LooseDate,
    add_months,
    local_today,
    parse_timestamp,
)
from koordinator.core.dates import from_iso as _from_iso
from koordinator.core.dates import german as _german
from koordinator.core.errors import InputError
from koordinator.core.files import Written, write_text
from koordinator.core.numbers import number_key
from koordinator.core.store.interface import ReportRows
from koordinator.core.text import clip, printable
from koordinator.core.views import is_overdue
from koordinator.core.workflow import (
    FINAL_STATUSES,
    REPORT_ORDER,
    Status,
    cause_label,
    check_status_codes,
)

if TYPE_CHECKING:
    from koordinator.core.catalogue import CatalogueApi
    from koordinator.core.records import Event
    from koordinator.core.store.sqlite_store import SqliteStore

FORMATS = ("markdown", "text")
TEXT_WIDTH = 80
DUE_SOON_MONTHS = 6
# Without a snapshot to start from, a report covers the year before its date.
DEFAULT_PERIOD_MONTHS = 12
TITLE = "Digitalisierungsstrategie – Aktueller Umsetzungsstand"

# Short column heads for the 80-column text table (the Markdown table uses the full labels).
SHORT_LABELS: dict[Status, str] = {
    Status.ESTABLISHED: "Etabl.",
    Status.ON_SCHEDULE: "Zeitpl.",
    Status.DELAYED: "Verzög.",
    Status.PLANNING: "Planung",
    Status.HANDED_OVER: "Linie",
    Status.DROPPED: "Verw.",
}


# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneLine:
    """A milestone together with the measure it belongs to."""

    number: str  # the measure's
    measure_title: str
    title: str
    due: str | None  # loose ISO dates
    done_on: str | None
    done: bool

    def describe(self) -> str:
        """ "Pilotbetrieb (fällig 06/2021)", "Liveschaltung (erreicht 10/2019)"."""
        if self.done:
            when = f"erreicht {german(self.done_on)}" if self.done_on else "erreicht"
        else:
            when = f"fällig {german(self.due)}" if self.due else "ohne Termin"
        return f"{self.title} ({when})"


@dataclass(frozen=True)
class MeasureLine:
    number: str
    field_code: int
    title: str
    status: Status
    unit: str
    origin: str  # 'catalog' or 'added'
    next_milestone: MilestoneLine | None


@dataclass(frozen=True)
class DelayLine:
    number: str
    measure_title: str
    status: Status  # an open delay may outlive the delayed status (e.g. handed over since)
    cause: str
    since: str
    until: str | None
    note: str


@dataclass(frozen=True)
class FinalMove:
    """A handed-over or dropped measure and what its move said: to whom, or why."""

    number: str
    title: str
    detail: str  # receiving unit (handed over) or reason (dropped); '' if none was recorded


@dataclass(frozen=True)
class FieldFigures:
    code: int
    name: str
    by_status: Mapping[Status, int]  # every status, in REPORT_ORDER
    measures: tuple[MeasureLine, ...]

    @property
    def total(self) -> int:
        return len(self.measures)


@dataclass(frozen=True)
class Change:
    """One line of "what changed since the snapshot"; `number` is '' for catalogue-wide changes."""

    number: str
    title: str
    text: str


@dataclass(frozen=True)
class SinceSnapshot:
    """The changes since a snapshot, what to call it, and the day it was taken."""

    changes: tuple[Change, ...]
    label: str  # "stand.toml, Stand 31.12.2020"
    start: date  # where the report's period begins unless given


def since_snapshot(source: CatalogueApi | SqliteStore, path: Path) -> SinceSnapshot:
    """Compare a snapshot file with the database now (SnapshotError if it is unusable)."""
    # Imported here: only `--since` needs them, and they are large (every report pays otherwise).
    from koordinator.core import diff, snapshot

    database = _database(source)
    old = snapshot.load(path)
    # Only the older side is named in the report; the newer one is "now".
    new = snapshot.snapshot_of(database, author=getattr(source, "author", "koordinator"))
    start = parse_timestamp(old.exported_at).astimezone().date()
    return SinceSnapshot(
        changes=tuple(
            Change(m.number, m.title, line)
            for m in diff.diff(old, new).measures
            for line in m.lines()
        ),
        label=f"{path.name}, Stand {_day(start)}",
        start=start,
    )


@dataclass(frozen=True)
class ReportFigures:
    today: date
    period_start: date
    total: int
    from_catalogue: int  # adopted with the catalogue of 2019
    added: int  # identified since
    by_status: Mapping[Status, int]  # every status, in REPORT_ORDER
    delayed_by_cause: Mapping[str, int]  # delayed measures by the cause of their latest delay
    established: tuple[MeasureLine, ...]
    handed_over: tuple[FinalMove, ...]
    dropped: tuple[FinalMove, ...]
    fields: tuple[FieldFigures, ...]
    open_delays: tuple[DelayLine, ...]
    milestones_reached: tuple[MilestoneLine, ...]  # in the period
    milestones_due_soon: tuple[MilestoneLine, ...]  # in the next DUE_SOON_MONTHS months
    milestones_overdue: tuple[MilestoneLine, ...]
    changes: tuple[Change, ...] | None = None  # None: no snapshot given
    changes_since: str = ""  # what the changes are measured against, e.g. the snapshot's name

    @property
    def open_delays_by_cause(self) -> dict[str, int]:
        return dict(Counter(delay.cause for delay in self.open_delays).most_common())

    @property
    def due_soon_until(self) -> date:
        return add_months(self.today, DUE_SOON_MONTHS)


@no_cycle_collection()
def compute_figures(
    source: CatalogueApi | SqliteStore,
    *,
    today: date | None = None,
    period_start: date | None = None,
    changes: Sequence[Change] | None = None,
    changes_since: str = "",
) -> ReportFigures:
    """All figures of the report as of `today` (default: the local date).

    Milestones "reached in the period" are those done between `period_start` (default: twelve
    months before `today`) and `today`; `changes` (from a snapshot diff) are passed through.
    A row this version cannot read is reported as a damaged database (DatabaseError).
    """
    today = today or local_today()
    period_start = period_start or add_months(today, -DEFAULT_PERIOD_MONTHS)
    with source.reads.damaged_rows():
        return _figures(
            source.reads.report_rows(period_start=period_start, today=today),
            today=today,
            period_start=period_start,
            changes=changes,
            changes_since=changes_since,
        )


@no_cycle_collection()
def compute_figures_as_of(
    source: CatalogueApi | SqliteStore, day: date, *, period_start: date | None = None
) -> ReportFigures:
    """The report as it stood on `day` (`report --stand`): the catalogue replayed from the
    events whose change happened by that day (`history.event_day`: the day an event states,
    else the local day it was recorded on), period, overdue and due soon from it.

    It replays every measure's history, so it reads through the whole store (SQLAlchemy),
    not the report's plain SQL.
    """
    period_start = period_start or add_months(day, -DEFAULT_PERIOD_MONTHS)
    with _database(source).reading_catalogue() as catalogue:
        rows = rows_as_of(catalogue.events(), catalogue.field_names(), day)
    return _figures(rows, today=day, period_start=period_start, changes=None, changes_since="")


def rows_as_of(
    events: Mapping[str, Sequence[Event]], field_names: Mapping[int, str], day: date
) -> ReportRows:
    """The rows `Reads.report_rows` reads, in its shapes and orders, from each measure's
    events that happened by `day` (`events` in replay order)."""
    # Imported here: the report without --stand does not replay.
    from koordinator.core.history import EventKind, event_day
    from koordinator.core.replay import creation, replay

    measures: list[tuple[int, str, int, int, str, str, str, str]] = []
    milestones: list[tuple[int, str, str | None, int, str | None]] = []
    open_delays: list[tuple[int, str, str, str | None, str]] = []
    final_moves: list[tuple[int, Mapping[str, Any]]] = []
    final_values = {status.value for status in FINAL_STATUSES}
    for measure_id, history in enumerate(events.values(), start=1):
        recorded = [event for event in history if event_day(event) <= day]
        if creation(recorded) is None:  # created after the day (or never)
            continue
        state = replay(recorded).state
        if state.withdrawn:
            continue
        measures.append(
            (
                measure_id,
                state.number,
                state.field_code,
                state.sequence,
                state.title,
                state.status,
                state.unit,
                state.origin,
            )
        )
        # All of them: the report narrows those done to the period itself.
        milestones.extend(
            (measure_id, m.title, m.due, int(m.done), m.done_on) for m in state.milestones.values()
        )
        open_delays.extend(
            (measure_id, d.cause, d.since, d.until, d.note)
            for d in state.delays.values()
            if d.is_open
        )
        if state.status in final_values:
            final_moves.extend(
                (measure_id, event.details)
                for event in recorded
                if event.kind == EventKind.STATUS_CHANGED and event.to_status == state.status
            )
    # By since; a stable sort keeps each measure's delays in the order they were logged,
    # which is all the report's ties depend on (it counts and lists them per measure).
    open_delays.sort(key=itemgetter(2))
    return ReportRows(
        fields=sorted(field_names.items()),
        measures=measures,
        milestones=milestones,
        open_delays=open_delays,
        final_moves=final_moves,
    )


def _figures(
    rows: ReportRows,
    *,
    today: date,
    period_start: date,
    changes: Sequence[Change] | None,
    changes_since: str,
) -> ReportFigures:
    fields, measures, milestones = rows.fields, rows.measures, rows.milestones
    open_delays, final_moves = rows.open_delays, rows.final_moves

    check_status_codes({measure[5] for measure in measures})
    # (field_code, sequence) is unique: the order of the catalogue.
    measures = sorted(measures, key=itemgetter(2, 3))
    open_milestones = [(m[0], m[1], m[2]) for m in milestones if not m[3]]
    # Plain tuples from here on (unpacked, not read by attribute name: 10,000 rows).
    # The schema checks number = field_code || '.' || sequence: (field_code, sequence) is
    # number_key(number).
    names: dict[int, tuple[str, str, str]] = {}
    number_keys: dict[int, tuple[int, int]] = {}
    for measure_id, number, field_code, sequence, title, status_value, _, _ in measures:
        names[measure_id] = (number, title, status_value)
        number_keys[measure_id] = (field_code, sequence)

    # Open milestones by deadline (each distinct due date read once), undated last; then by
    # measure and title.  Sorting them all once orders every list taken from them.
    deadlines: dict[str | None, tuple[date, int]] = {None: (date.max, 0)}
    last_days: dict[str | None, date] = {}
    for due in {due for _, _, due in open_milestones}:
        loose = from_iso(due)
        if loose is not None:
            deadlines[due] = loose.deadline_key()
            last_days[due] = loose.last_day()
    open_milestones = sorted(
        open_milestones, key=lambda m: (deadlines[m[2]], number_keys[m[0]], m[1])
    )
    next_milestones: dict[int, MilestoneLine] = {}
    due_soon: list[MilestoneLine] = []
    overdue: list[MilestoneLine] = []
    due_soon_until = add_months(today, DUE_SOON_MONTHS)
    for measure_id, title, due in open_milestones:
        number, measure_title, _ = names[measure_id]
        line = MilestoneLine(number, measure_title, title, due, None, False)
        if measure_id not in next_milestones:
            next_milestones[measure_id] = line
        last_day = last_days.get(due)
        if last_day is None:
            continue
        if is_overdue(due, False, today):
            overdue.append(line)
        elif last_day <= due_soon_until:
            due_soon.append(line)

    reached = [
        MilestoneLine(names[measure_id][0], names[measure_id][1], title, due, done_on, True)
        for measure_id, title, due, done, done_on in milestones
        if done and _touches(done_on, period_start, today)
    ]
    reached.sort(key=_done_order)

    # The latest move into a measure's current final status says to whom or why; a move
    # reopened and later undone leaves an older such event as the one that still holds.
    move_details: dict[int, str] = {}
    for measure_id, details in final_moves:
        move_details[measure_id] = str(details.get("receiving_unit") or details.get("reason") or "")
    # Each delayed measure counted once, under the cause of its most recent open delay.
    latest_cause = {measure_id: cause for measure_id, cause, *_ in open_delays}  # by since
    delay_lines: list[DelayLine] = []
    for measure_id, cause, since, until, note in sorted(
        open_delays, key=lambda d: number_keys[d[0]]
    ):
        number, measure_title, status_value = names[measure_id]
        delay_lines.append(
            DelayLine(number, measure_title, _STATUSES[status_value], cause, since, until, note)
        )

    # Compared and counted by their stored values (str): hashing an Enum member runs Python.
    measure_lines: list[MeasureLine] = []
    by_field: dict[int, list[MeasureLine]] = {code: [] for code, _ in fields}
    established: list[MeasureLine] = []
    handed_over: list[FinalMove] = []
    dropped: list[FinalMove] = []
    delayed_causes: list[str] = []
    next_milestone = next_milestones.get
    for measure_id, number, field_code, _, title, status_value, unit, origin in measures:
        measure_line = MeasureLine(
            number,
            field_code,
            title,
            _STATUSES[status_value],
            unit,
            origin,
            next_milestone(measure_id),
        )
        measure_lines.append(measure_line)
        own = by_field.get(field_code)
        if own is not None:
            own.append(measure_line)
        if status_value == _ESTABLISHED:
            established.append(measure_line)
        elif status_value == _DELAYED:
            delayed_causes.append(latest_cause.get(measure_id, "ohne Angabe"))
        elif status_value == _HANDED_OVER:
            handed_over.append(FinalMove(number, title, move_details.get(measure_id, "")))
        elif status_value == _DROPPED:
            dropped.append(FinalMove(number, title, move_details.get(measure_id, "")))
    status_counts = Counter(map(itemgetter(5), measures))
    field_status_counts = Counter(map(itemgetter(2, 5), measures))
    from_catalogue = sum(1 for m in measures if m[7] == "catalog")
    return ReportFigures(
        today=today,
        period_start=period_start,
        total=len(measures),
        from_catalogue=from_catalogue,
        added=len(measures) - from_catalogue,
        by_status={status: status_counts[status.value] for status in REPORT_ORDER},
        delayed_by_cause=dict(Counter(delayed_causes).most_common()),
        established=tuple(established),
        handed_over=tuple(handed_over),
        dropped=tuple(dropped),
        fields=tuple(
            FieldFigures(
                code=code,
                name=name,
                by_status={
                    status: field_status_counts[(code, status.value)] for status in REPORT_ORDER
                },
                measures=tuple(by_field[code]),
            )
            for code, name in fields
        ),
        open_delays=tuple(delay_lines),
        milestones_reached=tuple(reached),
        milestones_due_soon=tuple(due_soon),
        milestones_overdue=tuple(overdue),
        changes=tuple(changes) if changes is not None else None,
        changes_since=changes_since,
    )


_STATUSES: dict[str, Status] = {status.value: status for status in Status}
_ESTABLISHED = Status.ESTABLISHED.value
_DELAYED = Status.DELAYED.value
_HANDED_OVER = Status.HANDED_OVER.value
_DROPPED = Status.DROPPED.value


@functools.lru_cache(maxsize=16384)
def from_iso(text: str | None) -> LooseDate | None:
    """`dates.from_iso`, each distinct text read once (LooseDate is immutable): a report
    on 10,000 measures looks at thousands of milestones' dates several times."""
    return _from_iso(text)


@functools.lru_cache(maxsize=16384)
def german(text: str | None) -> str:
    """`dates.german`, each distinct text formatted once."""
    return _german(text)


def _database(source: CatalogueApi | SqliteStore) -> SqliteStore:
    # The UI holds a catalogue, the CLI and scripts may hold just the SqliteStore.  Imported
    # here: only `--since` needs SQLAlchemy (see since_snapshot).
    from koordinator.core.store.sqlite_store import SqliteStore

    return source if isinstance(source, SqliteStore) else source.database


def _done_order(line: MilestoneLine) -> tuple[date, tuple[int, int], str]:
    done_on = from_iso(line.done_on)
    return (done_on.first_day() if done_on else date.min, number_key(line.number), line.title)


def _touches(done_on: str | None, start: date, end: date) -> bool:
    # A loose date ("2020") counts if its period touches the report's period: the reader sees
    # the date as given, which is better than silently leaving the milestone out.
    loose = from_iso(done_on)
    return bool(loose and loose.last_day() >= start and loose.first_day() <= end)


# --- shared wording -----------------------------------------------------------------------------


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _name(number: str, title: str) -> str:
    return f"{title} ({number})"


def summary_lines(figures: ReportFigures) -> list[str]:
    """The short summary the council report opens with, one German sentence per status."""
    f = figures
    counts = f.by_status
    established = "; ".join(_name(m.number, m.title) for m in f.established)
    causes = ", ".join(f"{cause_label(c)}: {n}" for c, n in f.delayed_by_cause.items())
    handed_over = "; ".join(
        _name(m.number, m.title) + (f" an {m.detail}" if m.detail else "") for m in f.handed_over
    )
    dropped = "; ".join(
        _name(m.number, m.title) + (f" – Grund: {m.detail}" if m.detail else "") for m in f.dropped
    )
    return [
        f"{counts[Status.ESTABLISHED]} etabliert bzw. im Ausbau"
        + (f": {established}" if established else ""),
        f"{counts[Status.ON_SCHEDULE]} im Zeitplan",
        f"{counts[Status.DELAYED]} verzögert" + (f" ({causes})" if causes else ""),
        f"{counts[Status.PLANNING]} in Planung",
        f"{counts[Status.HANDED_OVER]} in die Linie übergeben"
        + (f": {handed_over}" if handed_over else ""),
        f"{counts[Status.DROPPED]} verworfen" + (f": {dropped}" if dropped else ""),
    ]


def _total_sentence(figures: ReportFigures) -> str:
    return (
        f"Insgesamt {figures.total} Maßnahmen: {figures.from_catalogue} aus dem Maßnahmenkatalog "
        f"2019, {figures.added} seither neu aufgenommen."
    )


def _period(figures: ReportFigures) -> str:
    return f"{_day(figures.period_start)} bis {_day(figures.today)}"


def _delays_intro(f: ReportFigures) -> str:
    """Where one delayed measure has several open delays, the table has more rows than the
    summary's "N verzögert" counts measures: say so, so that both visibly agree."""
    delayed = f.by_status[Status.DELAYED]
    if len(f.open_delays) == delayed:
        return ""
    return (
        f"{len(f.open_delays)} offene Verzögerungen bei {delayed} verzögerten Maßnahmen "
        "(eine Maßnahme kann mehrere haben)."
    )


def _delay_text(delay: DelayLine) -> str:
    until = f"voraussichtlich bis {german(delay.until)}" if delay.until else "Ende offen"
    return f"{cause_label(delay.cause)}, seit {german(delay.since)}, {until}"


def _changes_heading(figures: ReportFigures) -> str:
    since = f" ({figures.changes_since})" if figures.changes_since else ""
    return f"Änderungen seit dem Snapshot{since}"


def _sections(figures: ReportFigures) -> list[tuple[str, list[MilestoneLine]]]:
    return [
        (f"Erreicht im Berichtszeitraum ({_period(figures)})", list(figures.milestones_reached)),
        (
            f"Fällig in den nächsten {DUE_SOON_MONTHS} Monaten "
            f"(bis {_day(figures.due_soon_until)})",
            list(figures.milestones_due_soon),
        ),
        ("Überfällig", list(figures.milestones_overdue)),
    ]


# --- Markdown -----------------------------------------------------------------------------------


# What would make user text Markdown: emphasis, code, links, HTML and entities, a table's
# cell boundary, strikethrough, a heading's closing hashes.  Backslash-escaped wherever they
# stand (CommonMark lets any ASCII punctuation be escaped).
_MARKDOWN_INLINE = re.compile(r"[\\`*_\[\]<>&|~#]")
# At the start of a line: the marker of a list ("- ", "1. ", "2) "), a rule or a setext
# heading's underline ("---", "==="); not "1.1" or "-5".
_MARKDOWN_BLOCK = re.compile(r"^(\d{0,9})([-+=.)])(?=[\s=-]|$)")
_BLOCK_FIRST = frozenset("-+=.)0123456789")


def markdown_text(value: object) -> str:
    """User text (a title, a unit, a reason, a field's name…) as Markdown that shows it as
    typed, on one line: line breaks become spaces, control characters escapes (\\x1b), and
    every character Markdown would read is backslash-escaped, so that no text can add a
    heading, a list, a table, a link or HTML to the report."""
    if isinstance(value, int):  # a count
        return str(value)
    text = value if isinstance(value, str) else str(value)
    if (  # most titles: nothing to change (looked at quickly, a report has 100,000 cells)
        text.isprintable()
        and not _MARKDOWN_INLINE.search(text)
        and (text[:1] not in _BLOCK_FIRST or not _MARKDOWN_BLOCK.match(text))
        and text[:1] != " "
        and text[-1:] != " "
        and "  " not in text
    ):
        return text
    text = printable(" ".join(text.split()))
    text = _MARKDOWN_INLINE.sub(r"\\\g<0>", text)
    return _MARKDOWN_BLOCK.sub(r"\1\\\2", text, count=1)


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Sequence[int] = ()
) -> list[str]:
    """A GFM table: header, separator, and every row with the header's column count."""
    width = len(header)
    separator = ["---:" if index in numeric else "---" for index in range(width)]
    lines = [
        "| " + " | ".join(markdown_text(h) for h in header) + " |",
        "| " + " | ".join(separator) + " |",
    ]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row has {len(row)} cells, header {width}")
        lines.append("| " + " | ".join(markdown_text(value) for value in row) + " |")
    return lines


def render_markdown(figures: ReportFigures) -> str:
    f = figures
    out = [
        f"# {TITLE}",
        "",
        f"Stand: {_day(f.today)} · Berichtszeitraum: {_period(f)}",
        "",
        "## Kurzfassung",
        "",
        _total_sentence(f),
        "",
        *(f"- {markdown_text(line)}" for line in summary_lines(f)),
        "",
        "## Maßnahmen nach Handlungsfeld und Status",
        "",
        *_markdown_status_table(f),
        "",
        "## Maßnahmen je Handlungsfeld",
    ]
    for field in f.fields:
        out += ["", f"### {field.code} {markdown_text(field.name)}", ""]
        out += (
            markdown_table(
                ("Nr.", "Maßnahme", "Status", "Verantwortlich", "Nächster Meilenstein"),
                (
                    (
                        m.number,
                        m.title,
                        m.status.label,
                        m.unit or "–",
                        m.next_milestone.describe() if m.next_milestone else "–",
                    )
                    for m in field.measures
                ),
            )
            if field.measures
            else ["Keine Maßnahmen."]
        )
    out += ["", "## Offene Verzögerungen", ""]
    if intro := _delays_intro(f):
        out += [intro, ""]
    out += (
        markdown_table(
            ("Nr.", "Maßnahme", "Status", "Ursache", "Seit", "Voraussichtlich bis", "Anmerkung"),
            (
                (
                    d.number,
                    d.measure_title,
                    d.status.label,
                    cause_label(d.cause),
                    german(d.since),
                    german(d.until) if d.until else "offen",
                    d.note or "–",
                )
                for d in f.open_delays
            ),
        )
        if f.open_delays
        else ["Keine."]
    )
    out += ["", "## Meilensteine"]
    for heading, milestones in _sections(f):
        out += ["", f"### {heading}", ""]
        out += (
            markdown_table(
                ("Nr.", "Maßnahme", "Meilenstein", "Termin"),
                (
                    (
                        m.number,
                        m.measure_title,
                        m.title,
                        german(m.done_on if m.done else m.due) or "–",
                    )
                    for m in milestones
                ),
            )
            if milestones
            else ["Keine."]
        )
    if f.changes is not None:
        out += ["", f"## {markdown_text(_changes_heading(f))}", ""]
        out += (
            markdown_table(
                ("Nr.", "Maßnahme", "Änderung"),
                ((c.number or "–", c.title or "–", c.text) for c in f.changes),
            )
            if f.changes
            else ["Keine Änderungen."]
        )
    return "\n".join(out) + "\n"


def _markdown_status_table(figures: ReportFigures) -> list[str]:
    header = ["Handlungsfeld", *(s.label for s in REPORT_ORDER), "Summe"]
    rows: list[list[object]] = [
        [f"{field.code} {field.name}", *field.by_status.values(), field.total]
        for field in figures.fields
    ]
    rows.append(["Summe", *figures.by_status.values(), figures.total])
    return markdown_table(header, rows, numeric=range(1, len(header)))


# --- plain text (80 columns) ---------------------------------------------------------------------


def _wrap(text: str, *, indent: str = "", hanging: str | None = None) -> list[str]:
    """Lines of at most TEXT_WIDTH characters; long words are broken rather than overflowing."""
    return textwrap.wrap(
        text,
        width=TEXT_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent if hanging is None else hanging,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def _heading(text: str, underline: str) -> list[str]:
    lines = _wrap(text)
    return [*lines, underline * max(len(line) for line in lines)]


_UNDER = " " * 8  # where an entry's further lines start


def _add_entry(out: list[str], number: str, first: str, *more: str) -> None:
    """Append a numbered entry to `out`: "  1.1   Title", further lines under the title.

    Appended in place, and each line that fits as it is (most do) without calling _wrap:
    the report on 10,000 measures has about 45,000 such lines.  (isprintable: no whitespace
    but spaces; with no space at either end, _wrap keeps such a line as it is.)
    """
    indent = f"  {number:<6}"
    if (
        len(indent) + len(first) <= TEXT_WIDTH
        and first.isprintable()
        and first
        and first[0] != " "
        and first[-1] != " "
    ):
        out.append(indent + first)
    else:
        out += _wrap(first, indent=indent, hanging=_UNDER)
    for line in more:
        if (
            len(line) <= TEXT_WIDTH - 8
            and line.isprintable()
            and line
            and line[0] != " "
            and line[-1] != " "
        ):
            out.append(_UNDER + line)
        else:
            out += _wrap(line, indent=_UNDER)


def render_text(figures: ReportFigures) -> str:
    f = figures
    out = [
        *_heading(TITLE, "="),
        f"Stand: {_day(f.today)} · Berichtszeitraum: {_period(f)}",
        "",
        *_heading("Kurzfassung", "-"),
        *_wrap(_total_sentence(f)),
        "",
    ]
    for line in summary_lines(f):
        out += _wrap(line, indent="- ", hanging="  ")
    out += ["", *_heading("Maßnahmen nach Handlungsfeld und Status", "-"), *_text_status_table(f)]
    out += ["", *_heading("Maßnahmen je Handlungsfeld", "-")]
    for field in f.fields:
        out += ["", *_wrap(f"{field.code} {field.name} – {field.total} Maßnahmen")]
        for m in field.measures:
            details = [f"{m.status.label} · {m.unit or 'Verantwortlich: –'}"]
            if m.next_milestone:
                details.append(f"Nächster Meilenstein: {m.next_milestone.describe()}")
            _add_entry(out, m.number, m.title, *details)
    out += ["", *_heading("Offene Verzögerungen", "-")]
    if intro := _delays_intro(f):
        out += [*_wrap(intro), ""]
    for d in f.open_delays:
        details = [f"{d.status.label} · {_delay_text(d)}"] + ([d.note] if d.note else [])
        _add_entry(out, d.number, d.measure_title, *details)
    if not f.open_delays:
        out.append("Keine.")
    out += ["", *_heading("Meilensteine", "-")]
    for heading, milestones in _sections(f):
        out += ["", *_wrap(heading + ":")]
        for milestone in milestones:
            _add_entry(out, milestone.number, milestone.describe(), milestone.measure_title)
        if not milestones:
            out.append("  Keine.")
    if f.changes is not None:
        out += ["", *_heading(_changes_heading(f), "-")]
        # One entry per measure: its title, then each change on its own line.
        for (number, title), group in groupby(f.changes, key=lambda c: (c.number, c.title)):
            texts = [change.text for change in group]
            if title:
                _add_entry(out, number, title, *texts)
            else:
                _add_entry(out, number, *texts)
        if not f.changes:
            out.append("Keine Änderungen.")
    # Every line printable: no text from the database can add or overwrite a line (on a
    # terminal, or in a file shown on one).
    return "".join(f"{printable(line)}\n" for line in out)


def _text_status_table(figures: ReportFigures) -> list[str]:
    number_width = 7
    name_width = TEXT_WIDTH - (len(REPORT_ORDER) + 1) * (number_width + 1)

    def row(name: str, values: Iterable[object]) -> str:
        cells = "".join(f" {value!s:>{number_width}}" for value in values)
        return f"{clip(name, name_width):<{name_width}}{cells}"

    legend = ", ".join(f"{SHORT_LABELS[s]} = {s.label}" for s in REPORT_ORDER)
    lines = [row("Handlungsfeld", [*(SHORT_LABELS[s] for s in REPORT_ORDER), "Summe"])]
    lines.append("-" * TEXT_WIDTH)
    for field in figures.fields:
        lines.append(row(f"{field.code} {field.name}", [*field.by_status.values(), field.total]))
    lines.append("-" * TEXT_WIDTH)
    lines.append(row("Summe", [*figures.by_status.values(), figures.total]))
    return [*lines, *_wrap(f"({legend})")]


# --- writing --------------------------------------------------------------------------------------


def render(figures: ReportFigures, fmt: str) -> str:
    if fmt == "markdown":
        return render_markdown(figures)
    if fmt == "text":
        return render_text(figures)
    raise InputError(f"Unbekanntes Berichtsformat „{fmt}“ – erlaubt: {', '.join(FORMATS)}")


def format_for(path: Path) -> str:
    """The format a file name asks for: ".txt" is text, anything else Markdown."""
    return "text" if path.suffix.lower() == ".txt" else "markdown"


def report_figures(
    source: CatalogueApi | SqliteStore,
    *,
    today: date | None = None,
    period_start: date | None = None,
    since: Path | None = None,
) -> ReportFigures:
    """The figures, with the changes since the snapshot file `since` if one is given.

    The period then starts on the snapshot's day, unless `period_start` says otherwise.
    """
    if since is None:
        return compute_figures(source, today=today, period_start=period_start)
    changes = since_snapshot(source, since)
    return compute_figures(
        source,
        today=today,
        period_start=period_start or changes.start,
        changes=changes.changes,
        changes_since=changes.label,
    )


def write_report(
    source: CatalogueApi | SqliteStore,
    path: Path | str,
    fmt: str | None = None,
    *,
    today: date | None = None,
    period_start: date | None = None,
    since: Path | None = None,
) -> Written:
    """Compute the figures and write the report to `path` (format from the suffix if not given).

    This is what the UI's "Bericht schreiben" calls; it says what was written where.
    """
    path = Path(path)
    figures = report_figures(source, today=today, period_start=period_start, since=since)
    return write_text(path, render(figures, fmt or format_for(path)))


def parse_period_start(text: str | None) -> date | None:
    """A `--from` value as the first day of the loose date given ("2020" is 01.01.2020)."""
    loose = LooseDate.parse_optional(text, field="--from")
    return loose.first_day() if loose else None


def parse_stand(text: str | None) -> date | None:
    """A `--stand` value as the last day of the loose date given ("2020" is 31.12.2020)."""
    loose = LooseDate.parse_optional(text, field="--stand")
    return loose.last_day() if loose else None
