"""The catalogue: every question and every change the CLI and the UI may ask for.

`Catalogue`, the service, lives in `koordinator.core.service` and is loaded from here on
first use (PEP 562): it imports SQLAlchemy, and the terminal UI imports this module (for
`number_key`) before its first paint, which must not wait for SQLAlchemy.  What is defined
here needs the standard library only.
"""

from __future__ import annotations

import re
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


# ASCII digits only: str.isdigit() and \d also take "²", "①" or "٣", which int() refuses or
# reads as another number.  Leading zeros are allowed ("3.06"); field 0-99, sequence 1-999999
# as the snapshot's numbers (a longer one cannot exist, and int() refuses 4,300 digits).
_TYPED_NUMBER = re.compile(r"0*([0-9]{1,2})\.0*([1-9][0-9]{0,5})", re.ASCII)


def parse_number(text: str) -> str:
    """Normalise a measure number as typed ("3.6", " 3.06 ") or raise InputError."""
    match = _TYPED_NUMBER.fullmatch(text.strip())
    if match is None:
        shown = text if len(text) <= 40 else text[:39] + "…"  # what is wrong stays in sight
        raise InputError(f"„{shown}“ ist keine Maßnahmennummer – erwartet z. B. „3.6“")
    return f"{int(match.group(1))}.{match.group(2)}"


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
