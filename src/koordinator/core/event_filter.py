"""Which history events a reader wants to see: of one measure, by one author, in a period,
only the conflicts a merge left.  Pure: the UI's history screen filters the service's
history (`CatalogueApi.history`, newest first) with it as the user types."""

from __future__ import annotations

from dataclasses import dataclass

from koordinator.core.dates import LooseDate, parse_timestamp
from koordinator.core.views import EventView


@dataclass(frozen=True)
class EventFilter:
    # A measure number ("1.2"), or a field's code ("1": all of field 1); "": any.
    number: str = ""
    author: str = ""  # part of the author's name, any case; "": anyone
    period: LooseDate | None = None  # the local day it happened falls into it
    conflicts_only: bool = False

    def matches(self, event: EventView) -> bool:
        number = self.number.strip()
        if number and event.number != number and not event.number.startswith(number + "."):
            return False
        author = self.author.strip().casefold()
        if author and author not in event.author.casefold():
            return False
        if self.conflicts_only and not event.conflict:
            return False
        if self.period is not None:
            day = parse_timestamp(event.occurred_at).astimezone().date()
            if not self.period.first_day() <= day <= self.period.last_day():
                return False
        return True

    def apply(self, events: list[EventView]) -> list[EventView]:
        return [event for event in events if self.matches(event)]
