"""Loose dates ("2021", "10/2019", "31.12.2024") and UTC timestamps.

Public reports date things as a year, a year-month or a day.  A `LooseDate` keeps exactly the
precision it was given; it is stored as ISO text ("2021", "2019-10", "2024-12-31").  A loose
date stands for a period, so it is *overdue* only when the whole period is over ("2021" is
overdue from 2022-01-01 on), and deadlines sort by the end of their period ("06/2021" comes
before "2021").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from koordinator.core.errors import InputError

ACCEPTED_FORMATS = "JJJJ, JJJJ-MM, JJJJ-MM-TT, MM/JJJJ, TT.MM.JJJJ"

# re.ASCII: \d is then [0-9] only; otherwise "٢٠٢١" (Arabic-Indic digits) was read as 2021.
_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.ASCII), parts)
    for pattern, parts in (
        (r"(?P<y>\d{4})", ("y",)),
        (r"(?P<y>\d{4})-(?P<m>\d{1,2})", ("y", "m")),
        (r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})", ("y", "m", "d")),
        (r"(?P<m>\d{1,2})/(?P<y>\d{4})", ("y", "m")),
        (r"(?P<m>\d{1,2})\.(?P<y>\d{4})", ("y", "m")),
        (r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})", ("y", "m", "d")),
    )
)


@dataclass(frozen=True, order=False)
class LooseDate:
    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1000 <= self.year <= 2999:
            raise ValueError(f"year out of range: {self.year}")
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")
        if self.day is not None:
            date(self.year, self.month or 1, self.day)  # raises ValueError for 31.02.

    @classmethod
    def parse(cls, text: str, *, field: str = "Datum") -> LooseDate:
        """Parse ISO or German input; raise InputError naming the field and the formats."""
        cleaned = text.strip()
        for pattern, parts in _PATTERNS:
            match = pattern.fullmatch(cleaned)
            if match is None:
                continue
            values = {part: int(match.group(part)) for part in parts}
            try:
                return cls(values["y"], values.get("m"), values.get("d"))
            except ValueError:
                break
        raise InputError(f"{field}: „{text}“ ist kein gültiges Datum – erlaubt: {ACCEPTED_FORMATS}")

    @classmethod
    def parse_optional(cls, text: str | None, *, field: str = "Datum") -> LooseDate | None:
        if text is None or not text.strip():
            return None
        return cls.parse(text, field=field)

    @classmethod
    def from_date(cls, day: date) -> LooseDate:
        return cls(day.year, day.month, day.day)

    @property
    def precision(self) -> int:
        """1 for a year, 2 for a month, 3 for a day."""
        return 1 + (self.month is not None) + (self.day is not None)

    def iso(self) -> str:
        """The stored form: "2021", "2021-06", "2021-06-30"."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def german(self) -> str:
        """How a German report writes it: "2021", "06/2021", "30.06.2021"."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.day:02d}.{self.month:02d}.{self.year:04d}"

    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> date:
        if self.day is not None:
            return date(self.year, self.month or 1, self.day)
        if self.month is not None:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, 12, 31)

    def is_past(self, today: date) -> bool:
        """True when the whole period lies before `today` (a deadline is then overdue)."""
        return self.last_day() < today

    def deadline_key(self) -> tuple[date, int]:
        """Sort key for due dates: by the end of the period, the more precise first."""
        return (self.last_day(), -self.precision)

    def __str__(self) -> str:
        return self.german()


def happened_on(on: LooseDate | None, today: date, *, what: str) -> LooseDate:
    """The date something that happened is recorded with: `on`, else `today`.  A date
    whose period begins after `today` is refused (InputError naming `what`): what is
    recorded has happened, a plan has its own fields (a milestone's due, a delay's until).
    `what` ends where the date follows: "Maßnahme 1.2: behoben am"."""
    day = on or LooseDate.from_date(today)
    if day.first_day() > today:
        raise InputError(
            f"{what} {day.german()} liegt nach heute ({LooseDate.from_date(today).german()}) "
            "– erfasst wird, was geschehen ist"
        )
    return day


def from_iso(text: str | None) -> LooseDate | None:
    """Read a stored loose date back (trusted: written by `LooseDate.iso`)."""
    if text is None:
        return None
    parts = [int(p) for p in text.split("-")]
    return LooseDate(*parts)


def german(text: str | None) -> str:
    """A stored loose date in German form, '' for none."""
    loose = from_iso(text)
    return loose.german() if loose else ""


# --- timestamps -----------------------------------------------------------------------------

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """The stored form of a moment: 27 characters, UTC, so that text order is time order."""
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def causal_timestamp(wall: datetime, latest: str | None) -> str:
    """The time of a new event: the wall clock's, unless the database already holds an
    event at or after it (a colleague's laptop ran fast, or this one runs slow), then one
    microsecond after that event.  A hybrid logical clock folded into the timestamp: a
    change made after seeing another is ordered after it, whatever the clocks say."""
    now = timestamp(wall)
    if latest is None or latest < now:
        return now
    return timestamp(parse_timestamp(latest) + timedelta(microseconds=1))


def parse_timestamp(text: str) -> datetime:
    if len(text) == 27 and text[10] == "T" and text[19] == "." and text[26] == "Z":
        # The stored form: fromisoformat reads it (Z as UTC) ten times faster than strptime.
        return datetime.fromisoformat(text)
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def local_time(stamp: str) -> str:
    """A stored UTC timestamp in the user's local time, as Germans write it: "31.12.2020 13:00"."""
    return parse_timestamp(stamp).astimezone().strftime("%d.%m.%Y %H:%M")


def local_today() -> date:
    """Today's date where the user sits (what "overdue" and default dates mean to them)."""
    return datetime.now().astimezone().date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's end: 31.08. + 6 = 28.02."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
