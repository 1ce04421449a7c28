"""The status workflow of DOMAIN.md: which moves are allowed and what each must carry."""

from __future__ import annotations

import pytest

from koordinator.core.errors import InputError, WorkflowError
from koordinator.core.workflow import (
    Status,
    allowed_moves,
    check_move,
    parse_status,
    requirements,
)

ACTIVE = (Status.PLANNING, Status.ON_SCHEDULE, Status.DELAYED, Status.ESTABLISHED)
FINAL = (Status.HANDED_OVER, Status.DROPPED)


# --- reading a status -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("etabliert", Status.ESTABLISHED),
        ("Etabliert", Status.ESTABLISHED),
        ("Im Zeitplan", Status.ON_SCHEDULE),
        ("im  zeitplan ", Status.ON_SCHEDULE),
        ("ON_SCHEDULE", Status.ON_SCHEDULE),
        ("on schedule", Status.ON_SCHEDULE),
        ("in die linie übergeben", Status.HANDED_OVER),
        ("IN DIE LINIE ÜBERGEBEN", Status.HANDED_OVER),
        ("handed_over", Status.HANDED_OVER),
        ("Verzögert", Status.DELAYED),
        ("In Planung", Status.PLANNING),
        ("planning", Status.PLANNING),
        ("verworfen", Status.DROPPED),
        ("Dropped", Status.DROPPED),
    ],
)
def test_parse_status_accepts_codes_and_german_labels(text: str, expected: Status) -> None:
    assert parse_status(text) is expected


@pytest.mark.parametrize("text", ["fertig", "", "on_schedul", "Zeitplan"])
def test_parse_status_rejects_unknown_and_lists_what_is_allowed(text: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_status(text)
    message = str(raised.value)
    assert f"„{text}“" in message
    for status in Status:
        assert status.value in message
        assert status.label in message


def test_the_report_labels() -> None:
    assert [status.label for status in Status] == [
        "In Planung",
        "Im Zeitplan",
        "Verzögert",
        "Etabliert",
        "In die Linie übergeben",
        "Verworfen",
    ]


# --- allowed moves --------------------------------------------------------------------------


def _allowed(current: Status, target: Status) -> bool:
    try:
        requirements(current, target)
    except WorkflowError:
        return False
    return True


@pytest.mark.parametrize(
    ("current", "target"),
    [(Status.PLANNING, Status.ON_SCHEDULE), (Status.ON_SCHEDULE, Status.ESTABLISHED)],
)
def test_the_normal_way_is_allowed(current: Status, target: Status) -> None:
    assert _allowed(current, target)
    assert target in allowed_moves(current)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (current, target)
        for current in ACTIVE
        for target in (Status.DELAYED, Status.HANDED_OVER, Status.DROPPED)
        if current != target  # a delayed measure is already delayed (see below)
    ],
)
def test_any_active_status_can_be_delayed_handed_over_or_dropped(
    current: Status, target: Status
) -> None:
    assert _allowed(current, target)


def test_delayed_cannot_be_delayed_again_by_a_status_move() -> None:
    with pytest.raises(WorkflowError, match="bereits"):
        requirements(Status.DELAYED, Status.DELAYED)


@pytest.mark.parametrize("target", [Status.ON_SCHEDULE, Status.ESTABLISHED])
def test_a_delayed_measure_returns_to_schedule_or_established(target: Status) -> None:
    assert _allowed(Status.DELAYED, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.ON_SCHEDULE, Status.PLANNING),
        (Status.ESTABLISHED, Status.PLANNING),
        (Status.ESTABLISHED, Status.ON_SCHEDULE),
        (Status.DELAYED, Status.PLANNING),
        (Status.HANDED_OVER, Status.DROPPED),
        (Status.DROPPED, Status.HANDED_OVER),
        (Status.HANDED_OVER, Status.DELAYED),
        (Status.DROPPED, Status.ESTABLISHED),
    ],
)
def test_moves_against_the_work_are_forbidden(current: Status, target: Status) -> None:
    assert not _allowed(current, target)
    assert target not in allowed_moves(current)


@pytest.mark.parametrize("current", FINAL)
def test_final_statuses_only_reopen(current: Status) -> None:
    assert current.is_final
    assert set(allowed_moves(current)) <= {Status.PLANNING, Status.ON_SCHEDULE}
    assert allowed_moves(current), "a final status must still be reopenable"


@pytest.mark.parametrize("current", ACTIVE)
def test_active_statuses_are_not_final(current: Status) -> None:
    assert not current.is_final


@pytest.mark.parametrize("status", list(Status))
def test_staying_in_the_same_status_is_not_a_move(status: Status) -> None:
    with pytest.raises(WorkflowError, match=status.label):
        requirements(status, status)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.ON_SCHEDULE, Status.PLANNING),
        (Status.ESTABLISHED, Status.ON_SCHEDULE),
        (Status.HANDED_OVER, Status.DROPPED),
    ],
)
def test_a_forbidden_move_message_lists_the_allowed_moves(current: Status, target: Status) -> None:
    with pytest.raises(WorkflowError) as raised:
        check_move(current, target, note="x", receiving_unit="FB 11", reason="x", has_delay=True)
    message = str(raised.value)
    assert current.label in message
    assert target.label in message
    for allowed in allowed_moves(current):
        assert allowed.value in message
        assert allowed.label in message


# --- required data --------------------------------------------------------------------------


def test_handing_over_needs_the_receiving_unit() -> None:
    with pytest.raises(InputError, match="Dienststelle"):
        check_move(Status.ON_SCHEDULE, Status.HANDED_OVER)
    with pytest.raises(InputError):
        check_move(Status.ON_SCHEDULE, Status.HANDED_OVER, receiving_unit="   ")
    needs = check_move(Status.ON_SCHEDULE, Status.HANDED_OVER, receiving_unit="FB 11")
    assert needs.receiving_unit
    assert not needs.reason


def test_dropping_needs_a_reason() -> None:
    with pytest.raises(InputError, match="Begründung"):
        check_move(Status.PLANNING, Status.DROPPED)
    with pytest.raises(InputError):
        check_move(Status.PLANNING, Status.DROPPED, reason="  ")
    assert check_move(Status.PLANNING, Status.DROPPED, reason="kein Bedarf").reason


def test_delaying_needs_a_delay() -> None:
    with pytest.raises(InputError, match="Verzögerung"):
        check_move(Status.ON_SCHEDULE, Status.DELAYED)
    assert check_move(Status.ON_SCHEDULE, Status.DELAYED, has_delay=True).delay


@pytest.mark.parametrize("current", FINAL)
@pytest.mark.parametrize("target", [Status.PLANNING, Status.ON_SCHEDULE])
def test_reopening_a_final_status_needs_a_note(current: Status, target: Status) -> None:
    with pytest.raises(InputError, match=current.label):
        check_move(current, target)
    with pytest.raises(InputError):
        check_move(current, target, note="   ")
    assert check_move(current, target, note="FB 11 gibt das Projekt zurück").note


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.PLANNING, Status.ON_SCHEDULE),
        (Status.ON_SCHEDULE, Status.ESTABLISHED),
        (Status.DELAYED, Status.ON_SCHEDULE),
    ],
)
def test_ordinary_moves_need_nothing_extra(current: Status, target: Status) -> None:
    needs = check_move(current, target)
    assert not (needs.delay or needs.receiving_unit or needs.reason or needs.note)
