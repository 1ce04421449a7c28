"""Measure numbers ("3.6": field of action 3, sequence 6): how they sort and how a typed
one is read.  Standard library only: the UI's first paint and the plain-SQL reads use them."""

from __future__ import annotations

import re

from koordinator.core.errors import InputError


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
