"""One rule of "overdue" (core/views.py `is_overdue`), and every place that shows it agrees.

The measure's detail and list views, the council report, the export's checks and the
snapshot diff each decide which milestones are overdue; on the edge cases below (this month
and last month, this year and last year, today and yesterday, done, undated) they must name
the same milestones as the rule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from koordinator.core.dates import LooseDate
from koordinator.core.diff import diff
from koordinator.core.report import compute_figures
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import check, snapshot_of
from koordinator.core.store.sqlite_store import SqliteStore
from koordinator.core.views import is_overdue

TODAY = date(2021, 6, 15)
# Title, due, done on, overdue on TODAY.
EDGES: list[tuple[str, LooseDate | None, LooseDate | None, bool]] = [
    ("Dieser Monat", LooseDate(2021, 6), None, False),
    ("Letzter Monat", LooseDate(2021, 5), None, True),
    ("Dieses Jahr", LooseDate(2021), None, False),
    ("Letztes Jahr", LooseDate(2020), None, True),
    ("Heute", LooseDate(2021, 6, 15), None, False),
    ("Gestern", LooseDate(2021, 6, 14), None, True),
    ("Erledigt", LooseDate(2020), LooseDate(2020, 5), False),
    ("Ohne Termin", None, None, False),
]
OVERDUE = {title for title, _, _, overdue in EDGES if overdue}


@pytest.mark.parametrize(("title", "due", "done_on", "overdue"), EDGES)
def test_the_rule_on_its_edges(
    title: str, due: LooseDate | None, done_on: LooseDate | None, overdue: bool
) -> None:
    assert is_overdue(due.iso() if due else None, done_on is not None, TODAY) is overdue
    # A done milestone is never overdue, however long ago it was due.
    assert is_overdue(due.iso() if due else None, True, TODAY) is False


def test_the_views_the_report_the_checks_and_the_diff_agree(database: SqliteStore) -> None:
    def noon(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)

    catalogue = Catalogue(database, author="testerin", today=lambda: TODAY)
    number = catalogue.create_measure(1, "Ränder").number
    for title, due, done_on, _ in EDGES:
        catalogue.add_milestone(number, title, due=due, done_on=done_on)

    shown = {m.title for m in catalogue.measure(number).milestones if m.overdue}
    assert shown == OVERDUE
    (listed,) = [m for m in catalogue.list_measures(field_code=1) if m.number == number]
    assert listed.next_milestone is not None and listed.next_milestone.overdue is True

    figures = compute_figures(database, today=TODAY)
    assert {m.title for m in figures.milestones_overdue if m.number == number} == OVERDUE

    now = snapshot_of(database, author="x", clock=lambda: noon(TODAY))
    found = [str(f) for f in check(now, today=TODAY, stale_months=0)]
    flagged = {f.split("„")[1].split("“")[0] for f in found if f.startswith(f"{number}: ")}
    assert flagged == OVERDUE

    before = snapshot_of(database, author="x", clock=lambda: noon(date(2019, 1, 10)))
    (changes,) = [c for c in diff(before, now).measures if c.number == number]
    assert {m.title for m in changes.milestones_overdue} == OVERDUE
