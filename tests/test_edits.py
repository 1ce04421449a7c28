"""Milestone deletes and delay edits: what they change, their undo, and their trip through
snapshots (issue 14, item 7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from koordinator.core.dates import LooseDate
from koordinator.core.errors import InputError, NotFoundError, WorkflowError
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import import_snapshots, prepare_export
from koordinator.core.store.sqlite_store import SqliteStore
from koordinator.core.workflow import DelayInput
from snapshot_helpers import catalogue, empty_database, export_text, opened, without_export_time


def own_history_holds(database: SqliteStore) -> None:
    """Every measure's stored state is what its events replay to (the export's check)."""
    findings = prepare_export(database, author="x").findings
    assert [f for f in findings if "Verlauf" in f.text] == []


# --- deleting a milestone -------------------------------------------------------------------


def test_a_deleted_milestone_is_gone_and_its_undo_brings_it_back_exactly(
    catalogue: Catalogue, database: SqliteStore
) -> None:
    before = catalogue.measure("2.2").milestones
    reached = next(m for m in before if m.done)

    event = catalogue.delete_milestone("2.2", reached.title.upper())

    assert event.kind == "milestone_deleted"
    assert event.summary == f"Meilenstein „{reached.title}“ gelöscht"
    assert event.details == {"milestone_id": reached.id, "title": reached.title}
    after = catalogue.measure("2.2")
    assert [m.id for m in after.milestones] == [m.id for m in before if m.id != reached.id]
    assert after.history[0].summary == event.summary
    own_history_holds(database)

    undone = catalogue.undo_last()

    assert undone.summary == f"Rückgängig gemacht: {event.summary}"
    assert catalogue.measure("2.2").milestones == before  # done, its date, its note: all
    own_history_holds(database)


def test_a_milestone_is_deleted_by_its_id_and_an_unclear_name_is_refused(
    catalogue: Catalogue,
) -> None:
    first = catalogue.add_milestone("1.11", "Pilot")
    catalogue.add_milestone("1.11", "Pilot", due=LooseDate(2022))
    with pytest.raises(InputError, match=r"^Maßnahme 1\.11: Meilenstein „pilot“ gibt es 2-mal"):
        catalogue.delete_milestone("1.11", "pilot")
    with pytest.raises(NotFoundError, match="Meilenstein „Test“ nicht gefunden – vorhanden: „Pil"):
        catalogue.delete_milestone("1.11", "Test")
    catalogue.delete_milestone("1.11", first.id)
    assert [m.due for m in catalogue.measure("1.11").milestones] == ["2022"]


def test_a_milestone_is_edited_by_its_title_as_well(catalogue: Catalogue) -> None:
    catalogue.add_milestone("1.11", "Pilot")
    edited = catalogue.edit_milestone("1.11", " pilot ", due=LooseDate(2022, 3))
    assert (edited.title, edited.due) == ("Pilot", "2022-03")


# --- editing an open delay ------------------------------------------------------------------


def test_an_open_delay_is_edited_and_its_undo_restores_it(
    catalogue: Catalogue, database: SqliteStore
) -> None:
    (before,) = catalogue.measure("1.3").delays
    assert before.is_open

    event = catalogue.edit_delay(
        "1.3", cause="Lieferengpass", until=LooseDate(2022, 6), note="Chips fehlen"
    )

    assert event is not None and event.kind == "delay_edited"
    assert event.summary == "Verzögerung geändert: Ursache, Notiz, bis"
    assert event.details["delay_id"] == before.id
    assert event.details["changes"]["cause"] == [before.cause, "Lieferengpass"]
    (after,) = catalogue.measure("1.3").delays
    assert (after.cause, after.since, after.until, after.note) == (
        "Lieferengpass",
        before.since,
        "2022-06",
        "Chips fehlen",
    )
    own_history_holds(database)

    catalogue.undo_last()

    assert catalogue.measure("1.3").delays == (before,)
    own_history_holds(database)


def test_a_delay_edit_that_changes_nothing_records_nothing(catalogue: Catalogue) -> None:
    (delay,) = catalogue.measure("1.3").delays
    history = catalogue.measure("1.3").history
    assert catalogue.edit_delay("1.3", cause=delay.cause, note=delay.note) is None
    assert catalogue.measure("1.3").history == history


def test_only_an_open_delay_can_be_edited(catalogue: Catalogue) -> None:
    (delay,) = catalogue.measure("1.3").delays
    catalogue.resolve_delays("1.3")
    with pytest.raises(WorkflowError, match=r"^Maßnahme 1\.3 hat keine offene Verzögerung"):
        catalogue.edit_delay("1.3", note="später")
    with pytest.raises(WorkflowError, match="schon behoben"):
        catalogue.edit_delay("1.3", delay.id, note="später")


def test_a_delay_edit_keeps_until_after_since(catalogue: Catalogue) -> None:
    with pytest.raises(InputError, match=r"„bis“ .* liegt vor „seit“"):
        catalogue.edit_delay("1.3", since=LooseDate(2022), until=LooseDate(2021))
    with pytest.raises(InputError, match="Ursache darf nicht leer sein"):
        catalogue.edit_delay("1.3", cause="  ")


def test_of_several_open_delays_the_one_to_edit_must_be_named(catalogue: Catalogue) -> None:
    catalogue.log_delay("1.3", DelayInput(cause="Personal"))
    with pytest.raises(InputError, match=r"^Maßnahme 1\.3 hat 2 offene Verzögerungen"):
        catalogue.edit_delay("1.3", note="x")
    personal = next(d for d in catalogue.measure("1.3").delays if d.cause == "Personal")
    catalogue.edit_delay("1.3", personal.id, since=LooseDate(2021, 2))
    assert {d.cause: d.since for d in catalogue.measure("1.3").delays}["Personal"] == "2021-02"


# --- snapshots ------------------------------------------------------------------------------


def edited_copy(built_sample: Path, target: Path) -> Path:
    """A sample copy with a milestone deleted and brought back, one deleted for good, and
    its open delay edited twice (the first edit undone)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built_sample, target)
    with opened(target) as database:
        worker = catalogue(database, "Anna")
        titles = [m.title for m in worker.measure("2.2").milestones]
        worker.delete_milestone("2.2", titles[0])
        worker.undo_last()
        worker.delete_milestone("2.2", titles[1])
        worker.edit_delay("1.3", cause="Personal", until=LooseDate(2022))
        worker.undo_last()
        worker.edit_delay("1.3", note="neu geplant", clear_until=True)
    return target


def test_the_new_events_travel_through_an_empty_database(
    built_sample: Path, tmp_path: Path
) -> None:
    source = edited_copy(built_sample, tmp_path / "a" / "k.db")
    original = export_text(source)
    assert "milestone_deleted" in original and "delay_edited" in original
    snapshot_file = tmp_path / "a.toml"
    snapshot_file.write_text(original, encoding="utf-8")
    target = empty_database(tmp_path / "ziel" / source.name)
    with opened(target) as database:
        import_snapshots(database, [snapshot_file])
    assert without_export_time(export_text(target)) == without_export_time(original)


def test_a_colleague_who_imports_them_gets_the_same_milestones_and_delays(
    built_sample: Path, tmp_path: Path
) -> None:
    source = edited_copy(built_sample, tmp_path / "a" / "k.db")
    snapshot_file = tmp_path / "a.toml"
    snapshot_file.write_text(export_text(source), encoding="utf-8")
    target = tmp_path / "b" / "k.db"
    target.parent.mkdir()
    shutil.copyfile(built_sample, target)
    with opened(target) as database:
        import_snapshots(database, [snapshot_file])
        theirs = catalogue(database, "Ben")
        got = theirs.measure("2.2").milestones, theirs.measure("1.3").delays
        own_history_holds(database)
    with opened(source) as database:
        mine = catalogue(database, "Anna")
        assert got == (mine.measure("2.2").milestones, mine.measure("1.3").delays)
    assert len(got[0]) == 1 and got[1][0].note == "neu geplant" and got[1][0].until is None
