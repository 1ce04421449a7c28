"""Loose dates as public reports write them ("2021", "10/2019", "31.12.2024") and timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from koordinator.core.dates import (
    LooseDate,
    from_iso,
    german,
    parse_timestamp,
    timestamp,
)
from koordinator.core.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021", LooseDate(2021)),
        ("2019-10", LooseDate(2019, 10)),
        ("2024-12-31", LooseDate(2024, 12, 31)),
        ("10/2019", LooseDate(2019, 10)),
        ("31.12.2024", LooseDate(2024, 12, 31)),
        ("6/2021", LooseDate(2021, 6)),
        ("10.2019", LooseDate(2019, 10)),
        ("  2021-06  ", LooseDate(2021, 6)),
    ],
)
def test_parse_accepts_iso_and_german_forms(text: str, expected: LooseDate) -> None:
    assert LooseDate.parse(text) == expected


@pytest.mark.parametrize(("text", "precision"), [("2021", 1), ("10/2019", 2), ("31.12.2024", 3)])
def test_a_loose_date_keeps_the_precision_it_was_given(text: str, precision: int) -> None:
    assert LooseDate.parse(text).precision == precision


@pytest.mark.parametrize("text", ["2021-13", "31.02.2024", "morgen", "", "12/20", "2021-02-30"])
def test_parse_rejects_invalid_dates_naming_the_field(text: str) -> None:
    with pytest.raises(InputError) as raised:
        LooseDate.parse(text, field="Termin")
    message = str(raised.value)
    assert message.startswith("Termin")
    assert f"„{text}“" in message
    # It tells the user what would have been accepted.
    assert "JJJJ" in message


def test_parse_optional_treats_blank_as_no_date_but_rejects_nonsense() -> None:
    assert LooseDate.parse_optional(None) is None
    assert LooseDate.parse_optional("   ") is None
    assert LooseDate.parse_optional("06/2021") == LooseDate(2021, 6)
    with pytest.raises(InputError, match=r"^Fällig"):
        LooseDate.parse_optional("bald", field="Fällig")


@pytest.mark.parametrize(
    ("loose", "iso", "in_german"),
    [
        (LooseDate(2021), "2021", "2021"),
        (LooseDate(2021, 6), "2021-06", "06/2021"),
        (LooseDate(2021, 6, 3), "2021-06-03", "03.06.2021"),
    ],
)
def test_iso_and_german_forms_round_trip(loose: LooseDate, iso: str, in_german: str) -> None:
    assert loose.iso() == iso
    assert loose.german() == in_german
    assert str(loose) == in_german
    assert LooseDate.parse(iso) == loose
    assert LooseDate.parse(in_german) == loose
    assert from_iso(iso) == loose
    assert german(iso) == in_german


def test_no_stored_date_reads_as_empty() -> None:
    assert from_iso(None) is None
    assert german(None) == ""


@pytest.mark.parametrize(
    ("due", "today", "overdue"),
    [
        ("2021", date(2021, 12, 31), False),
        ("2021", date(2022, 1, 1), True),
        ("2021-06", date(2021, 6, 30), False),
        ("2021-06", date(2021, 7, 1), True),
        ("2024-02", date(2024, 2, 29), False),  # leap year: February has 29 days
        ("2024-12-31", date(2024, 12, 31), False),
        ("2024-12-31", date(2025, 1, 1), True),
    ],
)
def test_a_loose_deadline_is_overdue_only_when_its_whole_period_is_over(
    due: str, today: date, overdue: bool
) -> None:
    assert LooseDate.parse(due).is_past(today) is overdue


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("06/2021", "2021"),
        ("2021", "2022-01"),
        ("12/2021", "2021"),  # same end of period: the more precise deadline first
        ("31.12.2021", "12/2021"),
        ("2019-10-01", "10/2019"),
    ],
)
def test_deadlines_sort_by_the_end_of_their_period(earlier: str, later: str) -> None:
    first, second = LooseDate.parse(earlier), LooseDate.parse(later)
    assert first.deadline_key() < second.deadline_key()
    shuffled = [second, first]
    assert sorted(shuffled, key=LooseDate.deadline_key) == [first, second]


def test_stored_iso_text_sorts_chronologically_with_a_year_before_its_months() -> None:
    stored = ["2021-06-30", "2020", "2021-06", "2021", "2019-10"]
    assert sorted(stored) == ["2019-10", "2020", "2021", "2021-06", "2021-06-30"]
    assert [from_iso(text).first_day() for text in sorted(stored)] == sorted(
        from_iso(text).first_day() for text in stored
    )


# --- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2021, 3, 1, 9, 0, tzinfo=UTC),
        datetime(2021, 3, 1, 9, 0, 0, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_timestamps_are_27_characters_of_utc(moment: datetime) -> None:
    text = timestamp(moment)
    assert len(text) == 27
    assert text.endswith("Z")
    assert parse_timestamp(text) == moment


def test_timestamps_are_stored_in_utc_whatever_the_local_offset() -> None:
    berlin_summer = timezone(timedelta(hours=2))
    assert timestamp(datetime(2021, 6, 1, 10, 0, tzinfo=berlin_summer)) == (
        "2021-06-01T08:00:00.000000Z"
    )


def test_timestamp_text_order_is_time_order() -> None:
    plus_two = timezone(timedelta(hours=2))
    moments = [
        datetime(2021, 6, 1, 10, 0, tzinfo=plus_two),  # 08:00 UTC
        datetime(2021, 6, 1, 9, 0, tzinfo=UTC),
        datetime(2021, 6, 1, 8, 0, 0, 1, tzinfo=UTC),
        datetime(2021, 6, 1, 8, 0, 0, 0, tzinfo=UTC) - timedelta(days=400),
        datetime(2021, 6, 1, 7, 59, 59, 999999, tzinfo=UTC),
    ]
    texts = [timestamp(moment) for moment in moments]
    assert sorted(texts) == [timestamp(moment) for moment in sorted(moments)]
    # 10:00+02:00 is 08:00 UTC: before 09:00 UTC, although 10 > 9 on the wall clock.
    assert sorted(texts).index(texts[0]) < sorted(texts).index(texts[1])
