"""Measure numbers ("3.6": field of action 3, sequence 6): how large they may be, how they
sort and how a typed one is read.  Standard library only: the UI's first paint and the plain-SQL reads use them."""

from __future__ import annotations

import re

from koordinator.core.errors import InputError

# Sequences stay below 1000 in every field (F.1 to F.999), given out and read alike: without
# a limit one snapshot could push a field to 1.999999, and the next measure, 1.1000000, would
# make every later export of that database unreadable.
MAX_SEQUENCE = 999
SEQUENCE_LIMIT = f"Laufnummern gehen nur bis {MAX_SEQUENCE}"  # the refusals' shared words


def within_limit(sequence: str) -> bool:
    """Whether a sequence written without leading zeros ("17") is at most MAX_SEQUENCE; by
    its length first (int() refuses 4,300 digits and more)."""
    return len(sequence) <= len(str(MAX_SEQUENCE)) and int(sequence) <= MAX_SEQUENCE


def number_key(number: str) -> tuple[int, int]:
    """Sort key for measure numbers: "1.2" before "1.10"."""
    field_code, _, sequence = number.partition(".")
    return (int(field_code), int(sequence))


# ASCII digits only: str.isdigit() and \d also take "²", "①" or "٣", which int() refuses or
# reads as another number.  Leading zeros are allowed ("3.06"); field 0-99, sequence 1-999999,
# beyond MAX_SEQUENCE: a database written before the limit may hold such a number, and it
# must still be found (a number nobody holds is then "gibt es nicht", as any other).
_TYPED_NUMBER = re.compile(r"0*([0-9]{1,2})\.0*([1-9][0-9]{0,5})", re.ASCII)


def parse_number(text: str) -> str:
    """Normalise a measure number as typed ("3.6", " 3.06 ") or raise InputError."""
    match = _TYPED_NUMBER.fullmatch(text.strip())
    if match is None:
        shown = text if len(text) <= 40 else text[:39] + "…"  # what is wrong stays in sight
        raise InputError(f"„{shown}“ ist keine Maßnahmennummer – erwartet z. B. „3.6“")
    return f"{int(match.group(1))}.{match.group(2)}"
