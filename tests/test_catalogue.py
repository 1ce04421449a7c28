"""The catalogue service against a copy of the sample catalogue (Mannheim, December 2020).

Every change a coordinator makes goes through `Catalogue`; these tests check what they would
see afterwards: the figures of the report, the status moves DOMAIN.md allows, the delays and
milestones, and a history that records each change exactly once.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from koordinator.core import history, replay
from koordinator.core.dates import LooseDate, from_iso, parse_timestamp
from koordinator.core.errors import ConflictError, InputError, NotFoundError, WorkflowError
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import check, snapshot_of
from koordinator.core.store.models import Delay, HistoryEvent, Measure, Milestone
from koordinator.core.store.sqlite_store import DatabaseTarget, SqliteStore, open_database
from koordinator.core.views import DelayView, EventView, MeasureDetail, MeasureView, MilestoneView
from koordinator.core.workflow import DelayInput, Status, allowed_moves
from snapshot_helpers import benchmark_generator, table_rows

TODAY = date(2021, 3, 1)
START = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
AUTHOR = "Anna Koordinatorin"


class TickingClock:
    """A deterministic clock: every reading is one second after the previous one."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def db_path(sample_path: Path) -> Path:
    """The private sample copy of tests/conftest.py (its `database` fixture opens it)."""
    return sample_path


@pytest.fixture
def make_catalogue(database: SqliteStore) -> Callable[..., Catalogue]:
    """Catalogues for several authors or days, on one clock that moves forward for all."""
    clock = TickingClock()

    def make(*, today: date = TODAY, author: str = AUTHOR) -> Catalogue:
        return Catalogue(database, author=author, today=lambda: today, clock=clock)

    return make


@pytest.fixture
def catalogue(make_catalogue: Callable[..., Catalogue]) -> Catalogue:
    return make_catalogue()


def event_count(path: Path) -> int:
    return len(table_rows(path)["history_event"])


# --- reading: the report's figures ------------------------------------------------------------


def test_measures_are_listed_in_numeric_order(catalogue: Catalogue) -> None:
    numbers = [measure.number for measure in catalogue.list_measures()]
    assert numbers.index("1.2") < numbers.index("1.10") < numbers.index("2.1")
    keys = [tuple(int(part) for part in number.split(".")) for number in numbers]
    assert keys == sorted(keys)
    assert numbers[:3] == ["1.1", "1.2", "1.3"]
    assert numbers[-1] == "4.10"


def test_the_sample_carries_the_report_of_december_2020(catalogue: Catalogue) -> None:
    measures = catalogue.list_measures()
    assert len(measures) == 49
    assert Counter(measure.status for measure in measures) == {
        Status.ESTABLISHED: 9,
        Status.ON_SCHEDULE: 20,
        Status.DELAYED: 9,
        Status.PLANNING: 8,
        Status.HANDED_OVER: 2,
        Status.DROPPED: 1,
    }
    assert Counter(measure.origin for measure in measures) == {"catalog": 37, "added": 12}
    assert [(field.code, field.measure_count) for field in catalogue.fields()] == [
        (1, 16),
        (2, 8),
        (3, 15),
        (4, 10),
    ]
    assert Counter(measure.field_code for measure in measures) == {1: 16, 2: 8, 3: 15, 4: 10}


def test_the_sample_names_the_handovers_and_the_dropped_measure(catalogue: Catalogue) -> None:
    handed_over = {m.title: m for m in catalogue.list_measures(status=Status.HANDED_OVER)}
    assert set(handed_over) == {"Mitarbeiterportal", "Modernisierung Zuschusswesen"}
    units = {
        title: next(
            e.details["receiving_unit"]
            for e in catalogue.history(m.number)
            if e.to_status == Status.HANDED_OVER
        )
        for title, m in handed_over.items()
    }
    assert units["Mitarbeiterportal"].startswith("FB 11")
    assert units["Modernisierung Zuschusswesen"].startswith("FB 20")
    (dropped,) = catalogue.list_measures(status=Status.DROPPED)
    assert "Semesterticket" in dropped.title


def test_every_delayed_sample_measure_has_an_open_corona_delay(catalogue: Catalogue) -> None:
    delayed = catalogue.list_measures(status=Status.DELAYED)
    assert len(delayed) == 9
    for measure in delayed:
        assert measure.open_delays == 1, measure.number
        (delay,) = catalogue.measure(measure.number).delays
        assert delay.cause == "corona"
        assert delay.is_open
    others = [m for m in catalogue.list_measures() if m.status != Status.DELAYED]
    assert all(m.open_delays == 0 for m in others)


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        ({"field_code": 2}, lambda m: m.field_code == 2),
        ({"status": Status.DELAYED}, lambda m: m.status == Status.DELAYED),
        (
            {"field_code": 3, "status": Status.ON_SCHEDULE},
            lambda m: m.field_code == 3 and m.status == Status.ON_SCHEDULE,
        ),
    ],
)
def test_list_filters_by_field_and_status(
    catalogue: Catalogue, filters: dict[str, Any], check: Callable[[Any], bool]
) -> None:
    everything = catalogue.list_measures()
    filtered = catalogue.list_measures(**filters)
    assert filtered
    assert [m.number for m in filtered] == [m.number for m in everything if check(m)]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("bürgerportal", "1.1"),
        ("BÜRGERPORTAL", "1.1"),  # case does not matter
        ("Semesterticket", "4.10"),
        ("fb 11", "3.1"),  # the unit is searched too
        ("Änderung", "1.1"),  # in the note, typed exactly as written there
        ("änderung", "1.1"),
    ],
)
def test_list_finds_text_in_title_unit_and_note(
    catalogue: Catalogue, text: str, number: str
) -> None:
    assert number in [m.number for m in catalogue.list_measures(text=text)]


def test_a_search_without_hits_lists_nothing(catalogue: Catalogue) -> None:
    assert catalogue.list_measures(text="Raumfahrtprogramm") == []


# --- status changes ---------------------------------------------------------------------------


def test_the_normal_way_planning_on_schedule_established(
    catalogue: Catalogue, db_path: Path
) -> None:
    (first_planned, *_) = catalogue.list_measures(status=Status.PLANNING)
    number = first_planned.number
    event = catalogue.change_status(number, "Im Zeitplan", note="Projekt gestartet")
    assert (event.from_status, event.to_status) == (Status.PLANNING, Status.ON_SCHEDULE)
    assert event.note == "Projekt gestartet"
    catalogue.change_status(number, Status.ESTABLISHED)
    measure = catalogue.measure(number).measure
    assert measure.status == Status.ESTABLISHED
    moves = [
        (e.from_status, e.to_status)
        for e in catalogue.history(number)
        if e.kind == "status_changed"
    ]
    assert moves[:2] == [
        (Status.ON_SCHEDULE, Status.ESTABLISHED),
        (Status.PLANNING, Status.ON_SCHEDULE),
    ]


def test_handing_over_records_the_receiving_unit(catalogue: Catalogue) -> None:
    event = catalogue.change_status("1.2", "handed_over", receiving_unit=" FB 20 ")
    assert event.details["receiving_unit"] == "FB 20"
    assert "FB 20" in event.summary
    assert catalogue.measure("1.2").measure.status == Status.HANDED_OVER


def test_dropping_records_the_reason(catalogue: Catalogue) -> None:
    event = catalogue.change_status("1.2", "dropped", reason="kein Bedarf mehr")
    assert event.details["reason"] == "kein Bedarf mehr"
    assert catalogue.measure("1.2").measure.status == Status.DROPPED


def test_reopening_with_a_note(catalogue: Catalogue) -> None:
    event = catalogue.change_status("4.10", "planning", note="neuer Anlauf mit dem VRN")
    assert (event.from_status, event.to_status) == (Status.DROPPED, Status.PLANNING)
    assert event.note == "neuer Anlauf mit dem VRN"


@pytest.mark.parametrize(
    ("number", "target", "kwargs", "error", "words"),
    [
        ("9.9", "on_schedule", {}, NotFoundError, ["9.9"]),
        ("1.99", "on_schedule", {}, NotFoundError, ["1.99"]),
        ("eins", "on_schedule", {}, InputError, ["eins"]),
        ("1.2", "Fertig", {}, InputError, ["Fertig"]),
        ("1.2", "planning", {}, WorkflowError, ["delayed", "handed_over", "dropped"]),
        ("1.2", "on_schedule", {}, WorkflowError, ["Im Zeitplan"]),
        ("1.8", "dropped", {"reason": "x"}, WorkflowError, ["planning", "on_schedule"]),
        ("1.2", "handed_over", {}, InputError, ["Dienststelle"]),
        ("1.2", "handed_over", {"receiving_unit": "  "}, InputError, ["Dienststelle"]),
        ("1.2", "dropped", {}, InputError, ["Begründung"]),
        ("1.8", "on_schedule", {}, InputError, ["Begründung"]),
        ("4.10", "planning", {"note": " "}, InputError, ["Begründung"]),
        ("1.3", "delayed", {}, WorkflowError, ["Verzögert"]),
        (
            "1.2",
            "delayed",
            {"delay": DelayInput(since=LooseDate(2021, 6), until=LooseDate(2021, 1))},
            InputError,
            ["bis", "seit"],
        ),
        ("1.2", "delayed", {"delay": DelayInput(cause="  ")}, InputError, ["Ursache"]),
    ],
)
def test_a_refused_status_change_changes_nothing(
    catalogue: Catalogue,
    db_path: Path,
    number: str,
    target: str,
    kwargs: dict[str, Any],
    error: type[Exception],
    words: list[str],
) -> None:
    before = table_rows(db_path)
    with pytest.raises(error) as raised:
        catalogue.change_status(number, target, **kwargs)
    for word in words:
        assert word in str(raised.value)
    assert table_rows(db_path) == before


def test_a_forbidden_move_lists_every_allowed_move(catalogue: Catalogue) -> None:
    with pytest.raises(WorkflowError) as raised:
        catalogue.change_status("1.1", "planning")  # 1.1 is established
    for status in allowed_moves(Status.ESTABLISHED):
        assert status.label in str(raised.value)


def test_moving_to_delayed_records_an_open_corona_delay_since_today(
    catalogue: Catalogue, db_path: Path
) -> None:
    before = event_count(db_path)
    event = catalogue.change_status("1.2", "delayed", note="Lieferengpass")
    detail = catalogue.measure("1.2")
    assert detail.measure.status == Status.DELAYED
    assert detail.measure.open_delays == 1
    (delay,) = detail.delays
    assert (delay.cause, delay.since, delay.resolved_on) == ("corona", TODAY.isoformat(), None)
    assert event.kind == "status_changed"
    assert event.details["delay"]["id"] == delay.id
    assert event_count(db_path) == before + 1


def test_a_delay_with_its_own_cause_and_target(catalogue: Catalogue) -> None:
    catalogue.change_status(
        "1.2",
        Status.DELAYED,
        delay=DelayInput(
            cause="Personalmangel", since=LooseDate(2021, 2), until=LooseDate(2021), note="FB 12"
        ),
    )
    (delay,) = catalogue.measure("1.2").delays
    assert (delay.cause, delay.since, delay.until, delay.note) == (
        "Personalmangel",
        "2021-02",
        "2021",
        "FB 12",
    )


def test_corona_typed_in_any_case_is_the_known_cause(catalogue: Catalogue) -> None:
    catalogue.change_status("1.2", Status.DELAYED, delay=DelayInput(cause="Corona"))
    assert catalogue.measure("1.2").delays[0].cause == "corona"


@pytest.mark.parametrize("target", [Status.ON_SCHEDULE, Status.ESTABLISHED])
def test_leaving_delayed_resolves_the_open_delays(catalogue: Catalogue, target: Status) -> None:
    # 1.3 is delayed by Corona in the sample.
    event = catalogue.change_status("1.3", target)
    detail = catalogue.measure("1.3")
    assert detail.measure.status == target
    assert detail.measure.open_delays == 0
    assert [d.resolved_on for d in detail.delays] == [TODAY.isoformat()]
    assert event.details["resolved_delays"] == [detail.delays[0].id]


def test_handing_over_a_delayed_measure_is_allowed(catalogue: Catalogue) -> None:
    catalogue.change_status("1.3", Status.HANDED_OVER, receiving_unit="FB 37")
    assert catalogue.measure("1.3").measure.status == Status.HANDED_OVER


# --- delays -----------------------------------------------------------------------------------


def test_log_delay_moves_an_on_schedule_measure_to_delayed(
    catalogue: Catalogue, db_path: Path
) -> None:
    before = event_count(db_path)
    event = catalogue.log_delay("1.2", DelayInput(cause="Vergabeverfahren"), note="Einspruch")
    detail = catalogue.measure("1.2")
    assert detail.measure.status == Status.DELAYED
    assert [d.cause for d in detail.delays] == ["Vergabeverfahren"]
    assert (event.kind, event.from_status, event.to_status) == (
        "status_changed",
        Status.ON_SCHEDULE,
        Status.DELAYED,
    )
    assert event.note == "Einspruch"
    assert event_count(db_path) == before + 1


def test_log_delay_on_a_delayed_measure_adds_a_second_delay(
    catalogue: Catalogue, db_path: Path
) -> None:
    before = event_count(db_path)
    event = catalogue.log_delay("1.3", DelayInput(cause="Lieferengpass"))
    detail = catalogue.measure("1.3")
    assert detail.measure.status == Status.DELAYED
    assert detail.measure.open_delays == 2
    assert sorted(d.cause for d in detail.delays) == ["Lieferengpass", "corona"]
    assert event.kind == "delay_logged"
    assert event.from_status is None
    assert event.to_status is None
    assert event_count(db_path) == before + 1


def test_log_delay_on_a_final_measure_is_refused(catalogue: Catalogue, db_path: Path) -> None:
    before = table_rows(db_path)
    with pytest.raises(WorkflowError):
        catalogue.log_delay("4.10")
    assert table_rows(db_path) == before


def test_resolve_delays_returns_a_delayed_measure_to_on_schedule(catalogue: Catalogue) -> None:
    catalogue.log_delay("1.3", DelayInput(cause="Lieferengpass"))
    event = catalogue.resolve_delays("1.3", on=LooseDate(2021, 2, 15), note="geliefert")
    detail = catalogue.measure("1.3")
    assert detail.measure.status == Status.ON_SCHEDULE
    assert detail.measure.open_delays == 0
    assert [d.resolved_on for d in detail.delays] == ["2021-02-15", "2021-02-15"]
    assert (event.from_status, event.to_status) == (Status.DELAYED, Status.ON_SCHEDULE)
    assert sorted(event.details["resolved_delays"]) == sorted(d.id for d in detail.delays)
    assert event.note == "geliefert"


def test_resolve_delays_can_return_to_established(catalogue: Catalogue) -> None:
    event = catalogue.resolve_delays("1.3", return_to=Status.ESTABLISHED)
    assert event.to_status == Status.ESTABLISHED
    assert catalogue.measure("1.3").measure.status == Status.ESTABLISHED
    assert catalogue.measure("1.3").delays[0].resolved_on == TODAY.isoformat()


def test_resolve_delays_without_an_open_delay_is_an_error(
    catalogue: Catalogue, db_path: Path
) -> None:
    before = table_rows(db_path)
    with pytest.raises(WorkflowError, match=r"1\.2"):
        catalogue.resolve_delays("1.2")
    assert table_rows(db_path) == before


def test_resolve_delays_cannot_return_to_planning(catalogue: Catalogue, db_path: Path) -> None:
    before = table_rows(db_path)
    with pytest.raises(InputError):
        catalogue.resolve_delays("1.3", return_to=Status.PLANNING)
    assert table_rows(db_path) == before


# --- milestones -------------------------------------------------------------------------------


def test_add_milestone_open_and_already_reached(catalogue: Catalogue, db_path: Path) -> None:
    before = event_count(db_path)
    planned = catalogue.add_milestone("1.2", "Pilotbetrieb", due=LooseDate(2021, 6))
    reached = catalogue.add_milestone("1.2", "Konzept", done_on=LooseDate(2020, 11))
    assert (planned.done, planned.due, planned.done_on) == (False, "2021-06", None)
    assert (reached.done, reached.done_on) == (True, "2020-11")
    assert event_count(db_path) == before + 2
    titles = {m.title for m in catalogue.measure("1.2").milestones}
    assert titles == {"Pilotbetrieb", "Konzept"}


def test_a_milestone_needs_a_title(catalogue: Catalogue, db_path: Path) -> None:
    before = table_rows(db_path)
    with pytest.raises(InputError):
        catalogue.add_milestone("1.2", "   ")
    assert table_rows(db_path) == before


def test_complete_picks_the_next_open_milestone_by_deadline(catalogue: Catalogue) -> None:
    catalogue.add_milestone("1.2", "Ohne Termin")
    catalogue.add_milestone("1.2", "Jahresziel", due=LooseDate(2021))
    catalogue.add_milestone("1.2", "Pilot", due=LooseDate(2021, 6))
    order = [catalogue.complete_milestone("1.2").title for _ in range(3)]
    assert order == ["Pilot", "Jahresziel", "Ohne Termin"]
    with pytest.raises(NotFoundError, match="keinen offenen"):
        catalogue.complete_milestone("1.2")


def test_complete_by_title_and_date(catalogue: Catalogue) -> None:
    catalogue.add_milestone("1.2", "Pilot", due=LooseDate(2021, 6))
    catalogue.add_milestone("1.2", "Rollout in allen Stadtteilen", due=LooseDate(2022))
    done = catalogue.complete_milestone(
        "1.2", "  rollout in allen STADTTEILEN ", on=LooseDate(2021, 2), note="früher"
    )
    assert (done.title, done.done, done.done_on) == (
        "Rollout in allen Stadtteilen",
        True,
        "2021-02",
    )
    event = catalogue.history("1.2")[0]
    assert event.kind == "milestone_completed"
    assert event.note == "früher"
    assert catalogue.measure("1.2").measure.next_milestone.title == "Pilot"


def test_complete_without_a_date_means_today(catalogue: Catalogue) -> None:
    catalogue.add_milestone("1.2", "Pilot", due=LooseDate(2021, 6))
    assert catalogue.complete_milestone("1.2").done_on == TODAY.isoformat()


def test_an_exact_title_wins_over_partial_matches(catalogue: Catalogue) -> None:
    catalogue.add_milestone("1.2", "Pilot")
    catalogue.add_milestone("1.2", "Pilot Nord")
    assert catalogue.complete_milestone("1.2", "PILOT").title == "Pilot"


@pytest.mark.parametrize(
    ("which", "problem"),
    [
        ("pilot", "„pilot“ nicht gefunden"),  # a part of a title is no title
        ("Abnahme", "„Abnahme“ nicht gefunden"),
        ("Pilot Nord", "„Pilot Nord“ gibt es 2-mal"),
        (" pilot nord", "„pilot nord“ gibt es 2-mal"),
    ],
)
def test_complete_with_an_unclear_title_changes_nothing(
    catalogue: Catalogue, db_path: Path, which: str, problem: str
) -> None:
    catalogue.add_milestone("1.2", "Pilot Nord")
    catalogue.add_milestone("1.2", "Pilot Süd")
    catalogue.add_milestone("1.2", "PILOT NORD")
    before = table_rows(db_path)
    with pytest.raises(InputError) as raised:
        catalogue.complete_milestone("1.2", which)
    message = str(raised.value)
    assert "\n" not in message
    assert message == (
        f"Maßnahme 1.2: offener Meilenstein {problem} – "
        "offen: „PILOT NORD“, „Pilot Nord“, „Pilot Süd“"
    )
    assert table_rows(db_path) == before


def test_completing_a_title_twice_never_ticks_a_longer_one(
    catalogue: Catalogue, db_path: Path
) -> None:
    """`milestone 1.1 Test --complete`, repeated, must not tick "Testbetrieb"."""
    catalogue.add_milestone("1.2", "Test", due=LooseDate(2021, 1))
    catalogue.add_milestone("1.2", "Testbetrieb", due=LooseDate(2021, 6))
    assert catalogue.complete_milestone("1.2", "Test").title == "Test"
    before = table_rows(db_path)
    with pytest.raises(InputError, match=r"„Test“ ist schon erreicht – offen: „Testbetrieb“$"):
        catalogue.complete_milestone("1.2", "Test")
    assert table_rows(db_path) == before
    still_open = [m.title for m in catalogue.measure("1.2").milestones if not m.done]
    assert still_open == ["Testbetrieb"]


def test_the_list_of_open_milestones_in_a_refusal_is_clipped(catalogue: Catalogue) -> None:
    for k in range(12):
        catalogue.add_milestone("1.2", f"Etappe {k:02d} " + "x" * 100)
    with pytest.raises(InputError) as raised:
        catalogue.complete_milestone("1.2", "Etappe")
    message = str(raised.value)
    assert message.count("„Etappe ") == 8  # of the twelve open ones
    assert message.endswith(" und 4 weitere")
    assert len(message) < 700


def test_edit_milestone_records_old_and_new_values(catalogue: Catalogue) -> None:
    milestone = catalogue.add_milestone("1.2", "Pilot", due=LooseDate(2021, 6))
    edited = catalogue.edit_milestone(
        "1.2", milestone.id, title="Pilotbetrieb", due=LooseDate(2021, 9)
    )
    assert (edited.title, edited.due) == ("Pilotbetrieb", "2021-09")
    event = catalogue.history("1.2")[0]
    assert event.kind == "milestone_edited"
    assert event.details["changes"] == {
        "title": ["Pilot", "Pilotbetrieb"],
        "due": ["2021-06", "2021-09"],
    }
    cleared = catalogue.edit_milestone("1.2", milestone.id, clear_due=True)
    assert cleared.due is None


def test_edit_milestone_without_changes_records_nothing(
    catalogue: Catalogue, db_path: Path
) -> None:
    milestone = catalogue.add_milestone("1.2", "Pilot", due=LooseDate(2021, 6))
    before = table_rows(db_path)
    catalogue.edit_milestone("1.2", milestone.id, title="Pilot", due=LooseDate(2021, 6))
    assert table_rows(db_path) == before


def test_a_milestone_of_another_measure_is_not_found(catalogue: Catalogue, db_path: Path) -> None:
    milestone = catalogue.add_milestone("1.2", "Pilot")
    before = table_rows(db_path)
    with pytest.raises(NotFoundError):
        catalogue.edit_milestone("1.3", milestone.id, title="Fremd")
    assert table_rows(db_path) == before


def test_overdue_depends_on_today_and_the_whole_period(
    catalogue: Catalogue, make_catalogue: Callable[..., Catalogue]
) -> None:
    catalogue.add_milestone("1.2", "Jahresziel", due=LooseDate(2021))
    catalogue.add_milestone("1.2", "Erledigt", due=LooseDate(2020), done_on=LooseDate(2020, 5))
    on_new_years_eve = make_catalogue(today=date(2021, 12, 31)).measure("1.2").milestones
    next_year = make_catalogue(today=date(2022, 1, 1)).measure("1.2").milestones
    assert {m.title: m.overdue for m in on_new_years_eve} == {
        "Jahresziel": False,
        "Erledigt": False,
    }
    assert {m.title: m.overdue for m in next_year} == {"Jahresziel": True, "Erledigt": False}


def test_the_sample_milestone_due_2021_is_overdue_from_2022(
    make_catalogue: Callable[..., Catalogue],
) -> None:
    def next_milestone(today: date) -> Any:
        (measure,) = [m for m in make_catalogue(today=today).list_measures() if m.number == "2.2"]
        return measure.next_milestone

    assert next_milestone(date(2021, 12, 31)).overdue is False
    assert next_milestone(date(2022, 1, 1)).overdue is True


def test_list_views_show_the_next_open_milestone(catalogue: Catalogue) -> None:
    catalogue.add_milestone("1.2", "Später", due=LooseDate(2022))
    catalogue.add_milestone("1.2", "Erreicht", due=LooseDate(2020), done_on=LooseDate(2020))
    catalogue.add_milestone("1.2", "Bald", due=LooseDate(2021, 4, 30))
    (measure,) = [m for m in catalogue.list_measures(field_code=1) if m.number == "1.2"]
    assert measure.next_milestone is not None
    assert measure.next_milestone.title == "Bald"
    assert catalogue.measure("1.2").measure.next_milestone.title == "Bald"
    assert catalogue.measure("1.4").measure.next_milestone is None


# --- creating and editing measures --------------------------------------------------------------


def test_create_measure_numbers_after_the_last_of_its_field(
    catalogue: Catalogue, db_path: Path
) -> None:
    before = event_count(db_path)
    created = catalogue.create_measure(1, "  Digitale Bürgersprechstunde ", unit="FB 12")
    assert created.number == "1.17"
    assert created.title == "Digitale Bürgersprechstunde"
    assert (created.origin, created.origin_date) == ("added", TODAY.isoformat())
    assert created.status == Status.PLANNING
    assert created.revision == 1
    assert catalogue.create_measure(4, "Smart Parking").number == "4.11"
    assert catalogue.create_measure(1, "Noch eine").number == "1.18"
    assert event_count(db_path) == before + 3
    (event,) = catalogue.history("1.17")
    assert (event.kind, event.to_status, event.author) == (
        "measure_created",
        Status.PLANNING,
        AUTHOR,
    )
    numbers = [m.number for m in catalogue.list_measures()]
    assert numbers.index("1.16") < numbers.index("1.17") < numbers.index("1.18")
    assert numbers.index("1.18") < numbers.index("2.1")


@pytest.mark.parametrize(
    ("field_code", "title", "status", "error"),
    [
        (9, "Raumfahrt", Status.PLANNING, NotFoundError),
        (1, "   ", Status.PLANNING, InputError),
        (1, "Gleich fertig", Status.HANDED_OVER, InputError),
        (1, "Gleich verworfen", Status.DROPPED, InputError),
    ],
)
def test_create_measure_refuses_bad_input_and_changes_nothing(
    catalogue: Catalogue,
    db_path: Path,
    field_code: int,
    title: str,
    status: Status,
    error: type[Exception],
) -> None:
    before = table_rows(db_path)
    with pytest.raises(error):
        catalogue.create_measure(field_code, title, status=status)
    assert table_rows(db_path) == before


def test_edit_measure_records_only_actual_changes(catalogue: Catalogue) -> None:
    old = catalogue.measure("1.2").measure
    edited = catalogue.edit_measure("1.2", title=old.title, unit=" FB 12 ", note="neu")
    assert old.unit == "FB 12"
    assert edited.note == "neu"
    event = catalogue.history("1.2")[0]
    assert event.kind == "measure_edited"
    assert event.details["changes"] == {"note": [old.note, "neu"]}
    assert edited.revision == old.revision + 1


def test_edit_measure_without_changes_records_nothing(catalogue: Catalogue, db_path: Path) -> None:
    old = catalogue.measure("1.2").measure
    before = table_rows(db_path)
    same = catalogue.edit_measure("1.2", title=old.title, unit=old.unit, note=old.note)
    assert same.revision == old.revision
    assert table_rows(db_path) == before


def test_edit_measure_refuses_a_blank_title(catalogue: Catalogue, db_path: Path) -> None:
    before = table_rows(db_path)
    with pytest.raises(InputError):
        catalogue.edit_measure("1.2", title="  ", note="wird nicht gespeichert")
    assert table_rows(db_path) == before


# --- every change: one event, a revision, a conflict check ---------------------------------------


CHANGES: dict[str, tuple[str, Callable[[Catalogue, str], Any], str]] = {
    "change_status": (
        "1.2",
        lambda c, note: c.change_status("1.2", "established", note=note),
        "status_changed",
    ),
    "change_status to delayed": (
        "1.2",
        lambda c, note: c.change_status("1.2", "delayed", note=note),
        "status_changed",
    ),
    "log_delay": ("1.3", lambda c, note: c.log_delay("1.3", note=note), "delay_logged"),
    "resolve_delays": (
        "1.3",
        lambda c, note: c.resolve_delays("1.3", note=note),
        "status_changed",
    ),
    "complete_milestone": (
        "2.2",
        lambda c, note: c.complete_milestone("2.2", note=note),
        "milestone_completed",
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_every_change_writes_exactly_one_complete_event(
    catalogue: Catalogue, db_path: Path, name: str
) -> None:
    number, change, kind = CHANGES[name]
    revision = catalogue.measure(number).measure.revision
    events_before = {e.id for e in catalogue.history()}
    returned = change(catalogue, "  laut Jour fixe  ")
    new = [e for e in catalogue.history() if e.id not in events_before]
    assert len(new) == 1
    (event,) = new
    assert event.kind == kind
    assert event.number == number
    assert event.author == AUTHOR
    assert event.note == "laut Jour fixe"
    assert len(event.occurred_at) == 27
    assert event.occurred_at.endswith("Z")
    assert parse_timestamp(event.occurred_at) > START
    if hasattr(returned, "id") and hasattr(returned, "kind"):
        assert returned.id == event.id
    measure = catalogue.measure(number).measure
    assert measure.revision == revision + 1
    assert measure.updated_at == event.occurred_at


QUIET_CHANGES: dict[str, tuple[str, Callable[[Catalogue], Any]]] = {
    "add_milestone": ("1.2", lambda c: c.add_milestone("1.2", "Pilot", due=LooseDate(2021, 6))),
    "edit_measure": ("1.2", lambda c: c.edit_measure("1.2", note="neu")),
    "edit_milestone": (
        "2.2",
        lambda c: c.edit_milestone("2.2", c.measure("2.2").milestones[0].id, title="Neu"),
    ),
    "create_measure": ("1.17", lambda c: c.create_measure(1, "Neu")),
}


@pytest.mark.parametrize("name", list(QUIET_CHANGES))
def test_changes_without_a_note_also_write_exactly_one_event(
    catalogue: Catalogue, db_path: Path, name: str
) -> None:
    number, change = QUIET_CHANGES[name]
    before = event_count(db_path)
    change(catalogue)
    assert event_count(db_path) == before + 1
    event = catalogue.history(limit=1)[0]
    assert (event.number, event.author, len(event.occurred_at)) == (number, AUTHOR, 27)
    assert catalogue.measure(number).measure.updated_at == event.occurred_at


@pytest.mark.parametrize("name", ["add_milestone", "edit_measure", "edit_milestone"])
def test_changes_to_an_existing_measure_bump_its_revision(catalogue: Catalogue, name: str) -> None:
    number, change = QUIET_CHANGES[name]
    revision = catalogue.measure(number).measure.revision
    change(catalogue)
    assert catalogue.measure(number).measure.revision == revision + 1


def test_event_ids_are_unique_and_timestamps_are_utc(db_path: Path, database: SqliteStore) -> None:
    berlin = Catalogue(
        database,
        author="Ben",
        today=lambda: TODAY,
        clock=lambda: datetime(2021, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    event = berlin.change_status("1.2", "established")
    assert event.occurred_at == "2021-03-01T11:00:00.000000Z"
    ids = [row[0] for row in table_rows(db_path)["history_event"]]
    assert len(ids) == len(set(ids))


def test_events_name_their_author(make_catalogue: Callable[..., Catalogue]) -> None:
    make_catalogue(author="Ben").change_status("1.2", "established")
    make_catalogue(author="Clara").add_milestone("1.2", "Abnahme")
    latest = make_catalogue().history("1.2", limit=2)
    assert [e.author for e in latest] == ["Clara", "Ben"]


@pytest.mark.parametrize(
    "change",
    [
        lambda c, rev: c.edit_measure("1.2", note="meine Fassung", expected_revision=rev),
        lambda c, rev: c.change_status("1.2", "established", expected_revision=rev),
    ],
    ids=["edit_measure", "change_status"],
)
def test_a_stale_revision_is_a_conflict_and_writes_nothing(
    make_catalogue: Callable[..., Catalogue],
    db_path: Path,
    change: Callable[[Catalogue, int], Any],
) -> None:
    anna = make_catalogue()
    seen = anna.measure("1.2").measure.revision
    make_catalogue(author="Ben").edit_measure("1.2", unit="FB 12 / SHM²")
    before = table_rows(db_path)
    with pytest.raises(ConflictError) as raised:
        change(anna, seen)
    assert "1.2" in str(raised.value)
    assert "Ben" in str(raised.value)
    assert table_rows(db_path) == before
    # With the current revision the same change goes through.
    change(anna, seen + 1)
    assert table_rows(db_path) != before


# --- history ------------------------------------------------------------------------------------


def test_history_of_a_measure_is_newest_first(catalogue: Catalogue) -> None:
    sample_events = catalogue.history("1.1")
    assert sample_events[-1].kind == "measure_created"
    catalogue.change_status("1.1", "delayed")
    catalogue.add_milestone("1.1", "Neue Services")
    events = catalogue.history("1.1")
    assert [e.kind for e in events[:2]] == ["milestone_added", "status_changed"]
    assert events[2:] == sample_events
    times = [e.occurred_at for e in events]
    assert times == sorted(times, reverse=True)
    assert {e.number for e in events} == {"1.1"}
    assert catalogue.measure("1.1").history == tuple(events)


def test_history_overall_is_newest_first_across_measures(catalogue: Catalogue) -> None:
    catalogue.change_status("1.2", "established")
    catalogue.change_status("3.3", "on_schedule")
    catalogue.add_milestone("4.1", "Konzept")
    events = catalogue.history()
    assert [e.number for e in events[:3]] == ["4.1", "3.3", "1.2"]
    times = [e.occurred_at for e in events]
    assert times == sorted(times, reverse=True)
    assert len(events) == len(catalogue.history(limit=None))
    assert [e.id for e in catalogue.history(limit=2)] == [e.id for e in events[:2]]
    # The sample's own history starts with the catalogue of 2019.
    assert events[-1].occurred_at.startswith("2019-03-12")


def test_history_of_an_unknown_measure_is_not_found(catalogue: Catalogue) -> None:
    with pytest.raises(NotFoundError, match=r"7\.1"):
        catalogue.history("7.1")


# --- the details read: plain rows, the same views as the ORM ---------------------------------


@pytest.fixture(scope="module")
def generated_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated catalogue of 300 measures, plus what the generator never makes: milestones
    done without a date or in a whole year, undated ones, ties in deadline and title, edited
    milestones, a deleted one, undone changes, delays logged, edited and resolved by hand."""
    path = tmp_path_factory.mktemp("generated") / "katalog.db"
    benchmark_generator().generate(path, 300, seed=7)
    database = open_database(DatabaseTarget(path))
    try:
        catalogue = Catalogue(database, author="testerin", today=lambda: TODAY)
        for number in ("1.1", "2.3", "3.4", "4.5"):
            catalogue.add_milestone(number, "Erreicht ohne Datum", done=True)
            catalogue.add_milestone(number, "Erreicht im Jahr", done_on=LooseDate(2020))
            catalogue.add_milestone(number, "Ohne Termin")
            catalogue.add_milestone(number, "Gleich", due=LooseDate(2021, 6))
            catalogue.add_milestone(number, "Gleich", due=LooseDate(2021, 6, 30))
            edited = catalogue.add_milestone(number, "Jahresende", due=LooseDate(2021))
            catalogue.edit_milestone(number, edited.id, note="verschoben", due=LooseDate(2022))
            catalogue.delete_milestone(number, "Ohne Termin")
        for number in ("1.2", "2.4"):
            current = catalogue.measure(number).measure.status
            if current != Status.DELAYED:
                catalogue.log_delay(number, DelayInput(cause="Personal", note="Stelle offen"))
            catalogue.log_delay(number, DelayInput(until=LooseDate(2022)))
            for delay in catalogue.measure(number).delays:
                if delay.is_open:
                    catalogue.edit_delay(number, delay.id, note="neu geplant")
            catalogue.resolve_delays(number, on=LooseDate(2021, 2))
        catalogue.edit_measure("3.5", note="vorläufig")
        catalogue.undo_last()
    finally:
        database.close()
    return path


def _reference_detail(session: Session, number: str, today: date) -> MeasureDetail:
    """One measure's details the plain way: ORM objects, every order and figure in Python."""
    measure = session.scalars(select(Measure).where(Measure.number == number)).one()

    def deadline(milestone: Milestone) -> tuple[date, int]:
        loose = from_iso(milestone.due)
        return (loose.last_day(), -loose.precision) if loose else (date.max, 0)

    milestones = tuple(
        MilestoneView(
            id=m.id,
            title=m.title,
            due=m.due,
            done=m.done,
            done_on=m.done_on,
            note=m.note,
            overdue=not m.done and m.due is not None and deadline(m)[0] < today,
        )
        for m in sorted(
            session.scalars(select(Milestone).where(Milestone.measure_id == measure.id)),
            key=lambda m: (m.done, deadline(m), m.title, m.id),
        )
    )
    delays = tuple(
        DelayView(
            id=d.id,
            cause=d.cause,
            since=d.since,
            until=d.until,
            resolved_on=d.resolved_on,
            note=d.note,
        )
        for d in sorted(
            session.scalars(select(Delay).where(Delay.measure_id == measure.id)),
            key=lambda d: (d.since, d.id),
        )
    )
    events = sorted(
        session.scalars(select(HistoryEvent).where(HistoryEvent.measure_id == measure.id)),
        key=lambda e: (e.occurred_at, e.id),
        reverse=True,
    )
    history_views = tuple(
        EventView(
            id=e.id,
            number=number,
            kind=e.kind,
            occurred_at=e.occurred_at,
            author=e.author,
            note=e.note,
            from_status=Status(e.from_status) if e.from_status else None,
            to_status=Status(e.to_status) if e.to_status else None,
            details=e.details,
            summary=history.describe(e.kind, e.from_status, e.to_status, e.details),
        )
        for e in events
    )
    view = MeasureView(
        number=measure.number,
        field_code=measure.field_code,
        title=measure.title,
        unit=measure.unit,
        origin=measure.origin,
        origin_date=measure.origin_date,
        status=Status(measure.status),
        note=measure.note,
        revision=measure.revision,
        updated_at=measure.updated_at,
        uid=measure.uid,
        withdrawn=measure.withdrawn,
        next_milestone=next((m for m in milestones if not m.done), None),
        open_delays=sum(d.resolved_on is None for d in delays),
    )
    return MeasureDetail(view, milestones, delays, history_views)


# Kinds neither benchmarks/generate.py nor the fixture above writes.
UNWRITTEN_KINDS = {
    history.EventKind.MEASURE_RENUMBERED,
}


@pytest.mark.parametrize("today", [TODAY, date(2030, 1, 1)])
def test_details_read_as_rows_equal_the_plain_orm_computation(
    generated_path: Path, today: date
) -> None:
    database = open_database(DatabaseTarget(generated_path), read_only=True)
    try:
        catalogue = Catalogue(database, author="testerin", today=lambda: today)
        numbers = [measure.number for measure in catalogue.list_measures()]
        assert len(numbers) == 300
        with database.read() as session:
            expected = {number: _reference_detail(session, number, today) for number in numbers}
        kinds = Counter(e.kind for detail in expected.values() for e in detail.history)
        # Every kind of event benchmarks/generate.py and the fixture write is compared.
        assert set(kinds) == set(history.EventKind) - UNWRITTEN_KINDS
        assert any(m.overdue for detail in expected.values() for m in detail.milestones)
        for number in numbers:
            assert catalogue.measure(number) == expected[number], number
            # As typed: the number is normalised before it is looked up.
            assert catalogue.measure(f" {number.replace('.', '.0')} ") == expected[number]
    finally:
        database.close()


def test_details_of_an_unknown_or_malformed_number(catalogue: Catalogue) -> None:
    with pytest.raises(NotFoundError, match=r"^Maßnahme 7\.1 gibt es nicht$"):
        catalogue.measure("7.01")
    with pytest.raises(InputError, match="keine Maßnahmennummer"):
        catalogue.measure("sieben")


def test_status_and_delay_writes_store_what_their_history_replays_to(
    generated_path: Path, tmp_path: Path
) -> None:
    """change_status, log_delay and resolve_delays write plain statements, not ORM objects:
    on a generated catalogue, after every kind of move (and undos of some), each measure's
    stored status, revision, time and delays are exactly what replaying its history gives,
    and the details show what was stored."""
    path = tmp_path / "katalog.db"
    shutil.copyfile(generated_path, path)
    database = open_database(DatabaseTarget(path))
    today = date(2030, 1, 2)
    catalogue = Catalogue(
        database,
        author="testerin",
        today=lambda: today,
        clock=TickingClock(datetime(2030, 1, 2, 8, tzinfo=UTC)),
    )
    try:
        moved: Counter[str] = Counter()
        for index, measure in enumerate(catalogue.list_measures()[:120]):
            number, revision = measure.number, measure.revision
            match measure.status, index % 3:
                case Status.PLANNING, 0:
                    event = catalogue.change_status(number, "on_schedule", note="Start")
                case Status.PLANNING | Status.ON_SCHEDULE, 1:
                    delay = DelayInput("Personal", LooseDate(2029, 11), LooseDate(2031), "Stelle")
                    event = catalogue.change_status(number, "delayed", delay=delay)
                case Status.PLANNING | Status.ON_SCHEDULE | Status.ESTABLISHED, _:
                    event = catalogue.log_delay(number, note="Lieferengpass")
                case Status.DELAYED, 0:
                    event = catalogue.change_status(
                        number, "established", expected_revision=revision
                    )
                case Status.DELAYED, 1:
                    event = catalogue.log_delay(number, DelayInput(until=LooseDate(2030, 6)))
                case Status.DELAYED, _:
                    event = catalogue.resolve_delays(number, return_to=Status.ESTABLISHED)
                case Status.HANDED_OVER | Status.DROPPED, _:
                    event = catalogue.change_status(number, "planning", note="neuer Anlauf")
                case _:
                    continue
            moved[event.kind] += 1
            after = catalogue.measure(number)
            assert after.history[0] == event
            assert after.measure.revision == revision + 1
            assert after.measure.updated_at == event.occurred_at
        for number in ("1.1", "1.2", "2.1"):
            catalogue.change_status(number, "handed_over", receiving_unit="FB 20")
        catalogue.change_status("2.2", "dropped", reason="kein Bedarf")
        for _ in range(4):  # undo (through the ORM) what was written with plain statements
            catalogue.undo_last()
        assert moved["status_changed"] > 40 and moved["delay_logged"] > 5
        snapshot = snapshot_of(database, author="testerin", clock=lambda: datetime.now(UTC))
    finally:
        database.close()
    for record in snapshot.measures:
        derived = replay.replay(record.events).state
        assert list(replay.differences(record.state, derived)) == [], record.state.number
    findings = [str(f) for f in check(snapshot, today=today)]
    assert not [f for f in findings if "Verlauf" in f], findings
