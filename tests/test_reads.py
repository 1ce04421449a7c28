"""The hot reads (`koordinator.core.store.fast_reads`: plain SQL on sqlite3) show what the database
holds: checked against the ORM's models on the sample and on a generated catalogue larger
than the reads' IN-list limit; and the UI's start-up catalogue (`LazyCatalogue`) reads at
once, from several threads, and saves through the Catalogue it loads when first needed.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from koordinator.core.dates import from_iso
from koordinator.core.errors import DatabaseError
from koordinator.core.lazy_catalogue import LazyCatalogue, open_lazy
from koordinator.core.service import Catalogue
from koordinator.core.store import fast_reads
from koordinator.core.store.models import Delay, FieldOfAction, HistoryEvent, Measure, Milestone
from koordinator.core.store.sample import fill_fields_only
from koordinator.core.store.sqlite_store import DatabaseTarget, check_database, open_database
from koordinator.core.workflow import Status
from snapshot_helpers import benchmark_generator

TODAY = date(2021, 6, 15)  # some milestones of the catalogues are overdue then, some not


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 measures: more than fast_reads.IN_LIST_LIMIT, so both ways of reading the open
    milestones and delays (of the measures asked for, or all) are taken."""
    path = tmp_path_factory.mktemp("generated") / "katalog.db"
    benchmark_generator().generate(path, 1_000, seed=3)
    return path


def _deadline(due: str | None) -> tuple[date, int]:
    loose = from_iso(due)
    return loose.deadline_key() if loose else (date.max, 0)


def _expected(path: Path) -> dict[str, Any]:
    """What the screen should show, computed from the ORM's objects (the slow, obvious way)."""
    database = open_database(DatabaseTarget(path), read_only=True)
    try:
        with database.read() as session:
            measures = list(
                session.scalars(select(Measure).order_by(Measure.field_code, Measure.sequence))
            )
            milestones: dict[int, list[Milestone]] = {}
            for milestone in session.scalars(select(Milestone)):
                milestones.setdefault(milestone.measure_id, []).append(milestone)
            delays: dict[int, list[Delay]] = {}
            for delay in session.scalars(select(Delay)):
                delays.setdefault(delay.measure_id, []).append(delay)
            events: dict[int, list[HistoryEvent]] = {}
            for event in session.scalars(select(HistoryEvent)):
                events.setdefault(event.measure_id, []).append(event)
            fields = [(f.code, f.name) for f in session.scalars(select(FieldOfAction))]
    finally:
        database.close()

    def order(m: Milestone) -> tuple[bool, tuple[date, int], str, str]:
        return (m.done, _deadline(m.due), m.title, m.id)

    rows = {}
    for measure in measures:
        own = sorted(milestones.get(measure.id, []), key=order)
        open_ones = [m for m in own if not m.done]
        rows[measure.number] = {
            "status": measure.status,
            "title": measure.title,
            "revision": measure.revision,
            "next": (open_ones[0].id, open_ones[0].title) if open_ones else None,
            "overdue": bool(
                open_ones and open_ones[0].due and _deadline(open_ones[0].due)[0] < TODAY
            ),
            "open_delays": sum(d.resolved_on is None for d in delays.get(measure.id, [])),
            "milestones": [m.id for m in own],
            "delays": [
                d.id for d in sorted(delays.get(measure.id, []), key=lambda d: (d.since, d.id))
            ],
            "events": [
                (e.id, e.details)
                for e in sorted(
                    events.get(measure.id, []), key=lambda e: (e.occurred_at, e.id), reverse=True
                )
            ],
            "field": measure.field_code,
        }
    counts = {code: sum(r["field"] == code for r in rows.values()) for code, _ in fields}
    return {"rows": rows, "fields": [(code, name, counts[code]) for code, name in sorted(fields)]}


def _shown(view: Any) -> dict[str, Any]:
    return {
        "status": view.status.value,
        "title": view.title,
        "revision": view.revision,
        "next": (view.next_milestone.id, view.next_milestone.title)
        if view.next_milestone
        else None,
        "overdue": bool(view.next_milestone and view.next_milestone.overdue),
        "open_delays": view.open_delays,
    }


@pytest.mark.parametrize("which", ["sample", "generated"])
def test_the_reads_show_what_the_database_holds(
    which: str, sample_path: Path, generated: Path
) -> None:
    path = sample_path if which == "sample" else generated
    expected = _expected(path)
    database = open_database(DatabaseTarget(path), read_only=True)
    catalogue = Catalogue(database, author="testerin", today=lambda: TODAY)
    try:
        fields = [(f.code, f.name, f.measure_count) for f in catalogue.fields()]
        assert fields == expected["fields"]
        rows = expected["rows"]
        listed = catalogue.list_measures()
        assert [m.number for m in listed] == list(rows)
        for view in listed:
            assert _shown(view) == {k: rows[view.number][k] for k in _shown(view)}, view.number
        # The first page (the few measures' own milestones and delays) says the same.
        first = catalogue.list_measures(field_code=2, limit=100)
        assert [m.number for m in first] == [n for n, r in rows.items() if r["field"] == 2][:100]
        assert first == listed_by(listed, first)
        delayed = catalogue.list_measures(status=Status.DELAYED)
        assert [m.number for m in delayed] == [
            n for n, r in rows.items() if r["status"] == "delayed"
        ]
        for number in list(rows)[:: max(1, len(rows) // 40)]:
            detail = catalogue.measure(number)
            assert [detail.measure] == listed_by(listed, [detail.measure])
            assert [m.id for m in detail.milestones] == rows[number]["milestones"]
            assert [d.id for d in detail.delays] == rows[number]["delays"]
            assert [(e.id, e.details) for e in detail.history] == rows[number]["events"]
    finally:
        database.close()


def listed_by(listed: list[Any], wanted: list[Any]) -> list[Any]:
    by_number = {m.number: m for m in listed}
    return [by_number[m.number] for m in wanted]


def test_a_search_finds_umlauts_in_any_case(sample_path: Path) -> None:
    lazy = open_lazy(str(sample_path), read_only=False, author="testerin")
    assert lazy is not None
    try:
        found = lazy.list_measures(text="BÜRGERPORTAL")
        assert found and all("bürgerportal" in m.title.casefold() for m in found)
        assert lazy.list_measures(text="bürgerportal", limit=1) == found[:1]
    finally:
        lazy.close()


def test_the_start_up_catalogue_reads_from_several_threads_at_once(sample_path: Path) -> None:
    """The UI reads the whole list in a worker while the cursor reads details."""
    lazy = open_lazy(str(sample_path), read_only=False, author="testerin")
    assert lazy is not None
    results: list[int] = []
    errors: list[BaseException] = []

    def read_lists() -> None:
        try:
            for _ in range(30):
                results.append(len(lazy.list_measures()))
        except BaseException as error:  # pragma: no cover - shown by the assertion
            errors.append(error)

    try:
        worker = threading.Thread(target=read_lists)
        worker.start()
        for _ in range(30):
            assert lazy.measure("3.6").measure.number == "3.6"
        worker.join()
        assert not errors, errors
        assert results == [49] * 30
        assert not lazy.loaded  # reading never needed SQLAlchemy's side
    finally:
        lazy.close()


def test_the_start_up_catalogue_saves_through_the_catalogue_it_loads(sample_path: Path) -> None:
    lazy = open_lazy(str(sample_path), read_only=False, author="testerin")
    assert lazy is not None
    try:
        before = lazy.measure("1.2").measure
        event = lazy.change_status("1.2", Status.ESTABLISHED, expected_revision=before.revision)
        assert lazy.loaded
        assert event.author == "testerin"
        after = lazy.measure("1.2").measure
        assert (after.status, after.revision) == (Status.ESTABLISHED, before.revision + 1)
        assert lazy.list_measures(limit=2)[1].status == Status.ESTABLISHED
    finally:
        lazy.close()


def test_the_start_up_catalogue_in_read_only_mode_refuses_changes(sample_path: Path) -> None:
    lazy = open_lazy(str(sample_path), read_only=True, author="testerin")
    assert lazy is not None
    try:
        assert lazy.read_only and lazy.display_name == str(sample_path)
        with pytest.raises(DatabaseError, match="schreibgeschützt"):
            lazy.change_status("1.2", Status.ESTABLISHED)
        assert lazy.measure("1.2").measure.status == Status.ON_SCHEDULE
    finally:
        lazy.close()


@pytest.mark.parametrize("lazy", [True, False])
def test_both_forms_of_the_catalogue_answer_the_same_behind_one_interface(
    sample_path: Path, lazy: bool
) -> None:
    """`open_catalogue` gives the UI's lazy form or the plain one; both have every method
    of `CatalogueApi` of their own (nothing forwarded by name), and a name that is not
    one is an AttributeError at once: it does not load the write side first."""
    from koordinator.core.catalogue import CatalogueApi, open_catalogue

    catalogue = open_catalogue(str(sample_path), read_only=False, author="testerin", lazy=lazy)
    try:
        assert isinstance(catalogue, LazyCatalogue if lazy else Catalogue)
        members = {*dir(CatalogueApi), *CatalogueApi.__annotations__}
        members = {name for name in members if not name.startswith("_")}
        assert {"author", "change_status", "database", "undo_last"} <= members
        assert members <= set(dir(catalogue))  # dir: without calling a property
        assert "__getattr__" not in vars(type(catalogue))
        with pytest.raises(AttributeError):
            catalogue.no_such_method  # type: ignore[attr-defined]  # noqa: B018
        assert catalogue.loaded is not lazy
        assert [m.number for m in catalogue.list_measures(limit=3)] == ["1.1", "1.2", "1.3"]
        event = catalogue.change_status("1.11", Status.ON_SCHEDULE)
        assert catalogue.loaded and event.author == "testerin"
        assert catalogue.measure("1.11").measure.status == Status.ON_SCHEDULE
    finally:
        catalogue.close()


def test_a_new_measure_shows_as_the_list_shows_it(tmp_path: Path) -> None:
    """The views a change returns are built by the reads' code on the change's own
    connection, inside its transaction."""
    from koordinator.core.store.sqlite_store import create_database

    path = tmp_path / "leer.db"
    create_database(path, fill=fill_fields_only)
    database = open_database(DatabaseTarget(path))
    try:
        catalogue = Catalogue(database, author="testerin")
        created = catalogue.create_measure(2, "Digitale Bauakte", unit="FB 63")
        assert catalogue.list_measures() == [created]
        edited = catalogue.edit_measure(created.number, note="Pilot im Bauamt")
        assert catalogue.list_measures() == [edited]
        assert edited.note == "Pilot im Bauamt" and edited.revision == 2
    finally:
        database.close()


def test_reads_after_close_open_a_new_connection(sample_path: Path) -> None:
    lazy = LazyCatalogue(
        check_database(DatabaseTarget(sample_path), read_only=True), author="testerin"
    )
    assert len(lazy.fields()) == 4
    lazy.close()
    assert len(lazy.fields()) == 4  # e.g. a test's app after the database was closed
    lazy.close()


def test_the_reads_need_no_sqlalchemy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, koordinator.core.store.fast_reads, koordinator.core.lazy_catalogue, "
        "koordinator.core.catalogue, koordinator.core.numbers, koordinator.core.workflow\n"
        "assert 'sqlalchemy' not in sys.modules, sorted(sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert fast_reads.IN_LIST_LIMIT < 1_000  # the generated catalogue above is larger
