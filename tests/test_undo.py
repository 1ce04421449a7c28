"""Undo: the author's last change is reversed, recorded in history, and works after a restart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from koordinator.core.dates import LooseDate
from koordinator.core.errors import ConflictError, WorkflowError
from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database
from koordinator.core.workflow import DelayInput, Status


def test_undo_reverses_the_last_change_and_records_it(catalogue: Catalogue) -> None:
    catalogue.change_status("1.11", Status.ON_SCHEDULE)
    catalogue.log_delay("3.2", DelayInput(since=LooseDate.parse("2021")))
    assert catalogue.last_undoable().summary.startswith("Status: Im Zeitplan → Verzögert")

    undo = catalogue.undo_last()

    detail = catalogue.measure("3.2")
    assert detail.measure.status == Status.ON_SCHEDULE
    assert detail.delays == ()  # the delay the change created is gone
    assert detail.history[0].kind == "change_undone"
    assert detail.history[0].summary == f"Rückgängig gemacht: {undo.details['undone_summary']}"
    assert (undo.from_status, undo.to_status) == (Status.DELAYED, Status.ON_SCHEDULE)
    # The next undo goes one step further back, it does not redo.
    catalogue.undo_last()
    assert catalogue.measure("1.11").measure.status == Status.PLANNING


def test_undo_restores_resolved_delays_and_milestones(catalogue: Catalogue) -> None:
    catalogue.change_status("1.3", Status.ON_SCHEDULE)  # resolves the sample's Corona delay
    assert not any(d.is_open for d in catalogue.measure("1.3").delays)
    catalogue.undo_last()
    detail = catalogue.measure("1.3")
    assert detail.measure.status == Status.DELAYED
    assert [d.is_open for d in detail.delays] == [True]

    catalogue.add_milestone("2.4", "Zwischenstand", due=LooseDate.parse("2022"))
    catalogue.complete_milestone("2.4", "Zwischenstand")
    catalogue.undo_last()
    reopened = [m for m in catalogue.measure("2.4").milestones if m.title == "Zwischenstand"]
    assert [(m.done, m.done_on) for m in reopened] == [(False, None)]
    catalogue.undo_last()
    assert all(m.title != "Zwischenstand" for m in catalogue.measure("2.4").milestones)

    catalogue.edit_measure("2.4", title="Schulen digital", unit="FB 40")
    catalogue.undo_last()
    measure = catalogue.measure("2.4").measure
    assert (measure.title, measure.unit) == (
        "Digitalisierung von Schulen und Bildung",
        "FB 40 / FB 12",
    )


def test_undo_works_after_a_restart(sample_path: Path) -> None:
    first = open_database(DatabaseTarget(sample_path))
    Catalogue(first, author="anna").change_status("1.11", Status.ON_SCHEDULE)
    first.close()
    again = open_database(DatabaseTarget(sample_path))
    try:
        catalogue = Catalogue(again, author="anna")
        assert catalogue.last_undoable().number == "1.11"
        catalogue.undo_last()
        assert catalogue.measure("1.11").measure.status == Status.PLANNING
    finally:
        again.close()


def test_undo_is_per_author_and_refuses_to_overwrite_others(catalogue: Catalogue) -> None:
    other = Catalogue(catalogue.database, author="bernd")
    catalogue.change_status("1.11", Status.ON_SCHEDULE)
    other.change_status("1.11", Status.ESTABLISHED)
    assert other.last_undoable().number == "1.11"
    with pytest.raises(ConflictError, match="bernd hat die Maßnahme danach geändert"):
        catalogue.undo_last()
    assert catalogue.measure("1.11").measure.status == Status.ESTABLISHED


def test_undo_of_a_stale_confirmation_is_refused(catalogue: Catalogue) -> None:
    first = catalogue.change_status("1.11", Status.ON_SCHEDULE)
    catalogue.change_status("1.2", Status.ESTABLISHED)
    with pytest.raises(ConflictError):
        catalogue.undo_last(expected_event_id=first.id)
    assert catalogue.measure("1.2").measure.status == Status.ESTABLISHED


def test_nothing_to_undo_and_undoing_a_creation_withdraws_the_measure(catalogue: Catalogue) -> None:
    with pytest.raises(WorkflowError, match="keine eigene Änderung"):
        catalogue.undo_last()
    fixed = Catalogue(catalogue.database, author="testerin", today=lambda: date(2021, 1, 5))
    created = fixed.create_measure(2, "Glasfaser Gewerbegebiete")
    # Undoing the creation withdraws the measure: out of lists and counts, its number free
    # again, its history kept; then there is nothing of one's own left to undo.
    assert fixed.last_undoable().summary == "Maßnahme angelegt (In Planung)"
    fixed.undo_last()
    assert created.number not in [m.number for m in fixed.list_measures()]
    assert sum(field.measure_count for field in fixed.fields()) == 49
    with pytest.raises(WorkflowError, match="keine eigene Änderung"):
        fixed.undo_last()
    again = fixed.create_measure(2, "Glasfaser Gewerbegebiete, zweiter Anlauf")
    assert again.number == created.number
    assert [e.kind for e in fixed.history(again.number)] == ["measure_created"]
