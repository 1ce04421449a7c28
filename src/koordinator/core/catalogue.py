"""The catalogue: every question and every change the CLI and the UI may ask for.

`Catalogue`, the service, lives in `koordinator.core.service` and is loaded from here on
first use (PEP 562): it imports SQLAlchemy, and the terminal UI imports this module (for
`number_key`) before its first paint, which must not wait for SQLAlchemy.  What is defined
here needs the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from koordinator.core.dates import LooseDate
from koordinator.core.errors import InputError
from koordinator.core.workflow import DEFAULT_DELAY_CAUSE


@dataclass(frozen=True)
class DelayInput:
    """A delay to record: cause, since when, expected end or new target, note."""

    cause: str = DEFAULT_DELAY_CAUSE
    since: LooseDate | None = None  # None: today
    until: LooseDate | None = None
    note: str = ""


def number_key(number: str) -> tuple[int, int]:
    """Sort key for measure numbers: "1.2" before "1.10"."""
    field_code, _, sequence = number.partition(".")
    return (int(field_code), int(sequence))


def parse_number(text: str) -> str:
    """Normalise a measure number as typed ("3.6", " 3.06 ") or raise InputError."""
    field_code, dot, sequence = text.strip().partition(".")
    if not (dot and field_code.isdigit() and sequence.isdigit() and int(sequence) >= 1):
        raise InputError(f"„{text}“ ist keine Maßnahmennummer – erwartet z. B. „3.6“")
    return f"{int(field_code)}.{int(sequence)}"


def delay_start(since: LooseDate | None, until: LooseDate | None, today: date) -> LooseDate:
    """When a delay starts (today unless given); "until" must not lie before it."""
    start = since or LooseDate.from_date(today)
    if until is not None and until.last_day() < start.first_day():
        raise InputError(
            f"Verzögerung: „bis“ ({until.german()}) liegt vor „seit“ ({start.german()})"
        )
    return start


def __getattr__(name: str) -> Any:
    """`Catalogue` and the service's other names (`MEASURE_COLUMNS`, `apply_restore`, …),
    imported from `koordinator.core.service` when first asked for."""
    if name.startswith("__"):
        raise AttributeError(name)
    from koordinator.core import service

    try:
        return getattr(service, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
