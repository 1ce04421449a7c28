"""The status workflow of a measure, as data: statuses, labels, allowed moves, required data.

The rules (see DOMAIN.md): planning -> on schedule -> established is the normal way; any
active status can become delayed, handed over or dropped; a delayed measure returns to on
schedule or established when its delay is resolved; handed over and dropped are final, and
reopening one must say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from koordinator.core.dates import LooseDate
from koordinator.core.errors import InputError, WorkflowError


class Status(StrEnum):
    PLANNING = "planning"
    ON_SCHEDULE = "on_schedule"
    DELAYED = "delayed"
    ESTABLISHED = "established"
    HANDED_OVER = "handed_over"
    DROPPED = "dropped"

    @classmethod
    def _missing_(cls, value: object) -> Status:
        # A stored code this version does not know (a damaged or foreign database): said
        # in German, as the message of the damaged database quotes it.
        raise ValueError(f"unbekannter Status-Code {value!r}")

    @property
    def label(self) -> str:
        """The German word the report uses."""
        return STATUS_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


STATUS_LABELS: dict[Status, str] = {
    Status.PLANNING: "In Planung",
    Status.ON_SCHEDULE: "Im Zeitplan",
    Status.DELAYED: "Verzögert",
    Status.ESTABLISHED: "Etabliert",
    Status.HANDED_OVER: "In die Linie übergeben",
    Status.DROPPED: "Verworfen",
}

# The order in which the report lists the statuses (and the summary counts them).
REPORT_ORDER: tuple[Status, ...] = (
    Status.ESTABLISHED,
    Status.ON_SCHEDULE,
    Status.DELAYED,
    Status.PLANNING,
    Status.HANDED_OVER,
    Status.DROPPED,
)

FINAL_STATUSES = frozenset({Status.HANDED_OVER, Status.DROPPED})

# Where each status may move to.  Final statuses may be reopened, but only with a note.
ALLOWED_MOVES: dict[Status, tuple[Status, ...]] = {
    # A measure may also go live straight from planning (short projects, the 2020 report).
    Status.PLANNING: (
        Status.ON_SCHEDULE,
        Status.ESTABLISHED,
        Status.DELAYED,
        Status.HANDED_OVER,
        Status.DROPPED,
    ),
    Status.ON_SCHEDULE: (Status.ESTABLISHED, Status.DELAYED, Status.HANDED_OVER, Status.DROPPED),
    Status.DELAYED: (Status.ON_SCHEDULE, Status.ESTABLISHED, Status.HANDED_OVER, Status.DROPPED),
    Status.ESTABLISHED: (Status.DELAYED, Status.HANDED_OVER, Status.DROPPED),
    Status.HANDED_OVER: (Status.PLANNING, Status.ON_SCHEDULE),
    Status.DROPPED: (Status.PLANNING, Status.ON_SCHEDULE),
}

# The cause of most delays in 2020/21, stored by this code and shown as "Corona".
DEFAULT_DELAY_CAUSE = "corona"


def cause_label(cause: str) -> str:
    """How a delay cause reads: the common one by its German name, others as typed."""
    return "Corona" if cause == DEFAULT_DELAY_CAUSE else cause


@dataclass(frozen=True)
class DelayInput:
    """A delay to record: cause, since when, expected end or new target, note."""

    cause: str = DEFAULT_DELAY_CAUSE
    since: LooseDate | None = None  # None: today
    until: LooseDate | None = None
    note: str = ""


def delay_start(since: LooseDate | None, until: LooseDate | None, today: date) -> LooseDate:
    """When a delay starts (today unless given); "until" must not lie before it."""
    start = since or LooseDate.from_date(today)
    if until is not None and until.last_day() < start.first_day():
        raise InputError(
            f"Verzögerung: „bis“ ({until.german()}) liegt vor „seit“ ({start.german()})"
        )
    return start


# Moving to one of these resolves the measure's open delays: the measure is back on track,
# or no longer a project (handed over, dropped), so a delay cannot stay open.
RESOLVES_DELAYS = frozenset(
    {Status.ON_SCHEDULE, Status.ESTABLISHED, Status.HANDED_OVER, Status.DROPPED}
)


@dataclass(frozen=True)
class MoveRequirements:
    """What a move must carry besides the target status."""

    delay: bool = False  # a delay (cause, since, until, note) is recorded
    receiving_unit: bool = False  # the line department that takes over
    reason: bool = False  # why the measure is dropped
    note: bool = False  # why a final status is reopened

    @property
    def anything(self) -> bool:
        """Whether the move needs more than its target (a user interface asks for it)."""
        return self.delay or self.receiving_unit or self.reason or self.note


def _normalised(text: str) -> str:
    """Lower case, '_'/'-' as spaces, umlauts transliterated: "Verzoegert" == "verzögert"."""
    text = text.strip().lower().replace("_", " ").replace("-", " ")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return " ".join(text.split())


STATUS_CODES = frozenset(status.value for status in Status)


def check_status_codes(codes: set[str]) -> None:
    """ValueError (Status's own) for a stored status code this version does not know; for
    rows read in bulk, where one look at the set of their codes is cheaper than a Status
    per row."""
    for code in sorted(codes - STATUS_CODES):
        Status(code)


def parse_status(text: str) -> Status:
    """Accept a status by code or German label, case-insensitively ("Etabliert", "on_schedule")."""
    wanted = _normalised(text)
    for status in Status:
        if wanted in (_normalised(status.value), _normalised(status.label)):
            return status
    known = ", ".join(f"{s.value} ({s.label})" for s in Status)
    raise InputError(f"Unbekannter Status „{text}“ – erlaubt: {known}")


def allowed_moves(current: Status) -> tuple[Status, ...]:
    return ALLOWED_MOVES[current]


def requirements(current: Status, target: Status) -> MoveRequirements:
    """What a move from `current` to `target` needs; raises WorkflowError if it is not allowed."""
    if target not in ALLOWED_MOVES[current]:
        if target == current:
            raise WorkflowError(f"Die Maßnahme ist bereits „{current.label}“.")
        allowed = ", ".join(f"{s.value} ({s.label})" for s in ALLOWED_MOVES[current])
        raise WorkflowError(
            f"Von „{current.label}“ nach „{target.label}“ ist nicht erlaubt – möglich: {allowed}"
        )
    return MoveRequirements(
        delay=target == Status.DELAYED,
        receiving_unit=target == Status.HANDED_OVER,
        reason=target == Status.DROPPED,
        note=current.is_final,
    )


def check_move(
    current: Status,
    target: Status,
    *,
    note: str = "",
    receiving_unit: str = "",
    reason: str = "",
    has_delay: bool = False,
) -> MoveRequirements:
    """Validate a move and the data it carries; returns its requirements."""
    needs = requirements(current, target)
    if needs.receiving_unit and not receiving_unit.strip():
        raise InputError(
            "Für „In die Linie übergeben“ fehlt die übernehmende Dienststelle (--unit, z. B. „FB 20“)."
        )
    if needs.reason and not reason.strip():
        raise InputError("Für „Verworfen“ fehlt die Begründung (--reason).")
    if needs.note and not note.strip():
        raise InputError(
            f"Eine Maßnahme im Status „{current.label}“ wieder aufzunehmen braucht eine Begründung (--note)."
        )
    if needs.delay and not has_delay:
        raise InputError("Für „Verzögert“ fehlt die Verzögerung (Ursache, seit wann).")
    return needs
