"""Import and merge: all or nothing, located errors, idempotence, conflicts, round trip."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from koordinator.core import replay
from koordinator.core.dates import LooseDate
from koordinator.core.errors import SnapshotError
from koordinator.core.records import Event
from koordinator.core.snapshot import import_snapshots, loads
from koordinator.core.store import sqlite_catalogue
from koordinator.core.store.sqlite_store import create_database
from koordinator.core.workflow import DelayInput, Status
from snapshot_helpers import (
    TickingClock,
    catalogue,
    dump,
    empty_database,
    export_text,
    header_of,
    line_of,
    opened,
    run,
    without_export_time,
)


def show(capsys: pytest.CaptureFixture[str], db: Path, number: str) -> dict:
    code, out, err = run(capsys, "--db", str(db), "show", number, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


# --- the done-criterion, end to end on the command line -------------------------------


def test_two_coordinators_merge_into_a_fourth_copy(
    capsys: pytest.CaptureFixture[str], built_sample: Path, tmp_path: Path
) -> None:
    first = copy(built_sample, tmp_path / "eins" / "koordinator.db")
    basis = tmp_path / "basis.toml"
    assert run(capsys, "--db", str(first), "export", "-o", str(basis))[0] == 0
    # Two coordinators start from that snapshot, each in a new, empty database.
    anna, ben = tmp_path / "anna.db", tmp_path / "ben.db"
    for db in (anna, ben):
        assert run(capsys, "init", "--empty", "--db", str(db))[0] == 0
        code, out, err = run(capsys, "--db", str(db), "import", str(basis))
        assert code == 0, err
        assert out.splitlines()[-1] == "Importiert: 100 neue Einträge bei 49 Maßnahmen."
    assert (
        run(
            capsys,
            "--db",
            str(anna),
            "--as",
            "Anna",
            "status",
            "1.11",
            "on_schedule",
            "--note",
            "Projektstart erfolgt",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            "--db",
            str(ben),
            "--as",
            "Ben",
            "milestone",
            "2.4",
            "Pilotschule",
            "--due",
            "09/2021",
        )[0]
        == 0
    )
    for db in (anna, ben):
        assert run(capsys, "--db", str(db), "export", "-o", str(db.with_suffix(".toml")))[0] == 0

    fourth = copy(built_sample, tmp_path / "fb12.db")
    code, out, err = run(
        capsys,
        "--db",
        str(fourth),
        "import",
        str(anna.with_suffix(".toml")),
        str(ben.with_suffix(".toml")),
    )
    assert code == 0, err
    lines = out.splitlines()
    assert "1.11 LoRaWAN (eigenes Funknetz): 1 neuer Eintrag" in lines
    assert any("Anna: Status: In Planung → Im Zeitplan – Projektstart erfolgt" in x for x in lines)
    assert "  Status jetzt: Im Zeitplan (bisher In Planung)" in lines
    assert "2.4 Digitalisierung von Schulen und Bildung: 1 neuer Eintrag" in lines
    assert any("Ben: Meilenstein „Pilotschule“ angelegt, fällig 09/2021" in x for x in lines)
    assert lines[-1] == "Importiert: 2 neue Einträge bei 2 Maßnahmen."

    lora = show(capsys, fourth, "1.11")
    assert lora["status"] == "on_schedule"
    assert (lora["history"][0]["author"], lora["history"][0]["note"]) == (
        "Anna",
        "Projektstart erfolgt",
    )
    assert "Pilotschule" in [m["title"] for m in show(capsys, fourth, "2.4")["milestones"]]

    before = dump(fourth)
    code, out, _ = run(
        capsys,
        "--db",
        str(fourth),
        "import",
        str(anna.with_suffix(".toml")),
        str(ben.with_suffix(".toml")),
    )
    assert code == 0
    assert out.splitlines()[-1] == "Nichts zu tun – alle Einträge sind schon vorhanden."
    assert dump(fourth) == before


# --- round trip and idempotence -----------------------------------------------------------------


# 1: every import counts as large, so that the sample's 100 events take the way of a large
# import (the history's indexes dropped before the insert and built again after it).
@pytest.mark.parametrize("large_from", [sqlite_catalogue.BULK_INDEX_REBUILD, 1])
def test_round_trip_through_an_empty_database(
    sample_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, large_from: int
) -> None:
    monkeypatch.setattr(sqlite_catalogue, "BULK_INDEX_REBUILD", large_from)
    with opened(sample_path) as database:
        worker = catalogue(database, "Anna")
        delay = DelayInput(since=LooseDate(2021, 1), until=LooseDate(2021))
        worker.change_status("1.2", Status.DELAYED, delay=delay)
        worker.add_milestone("1.2", "Ausschreibung", due=LooseDate(2021, 9, 30))
        worker.edit_measure("1.2", note="Zeile 1\nZeile 2 mit „Anführungszeichen“ und \\")
        worker.undo_last()
        worker.resolve_delays("1.2", return_to=Status.ESTABLISHED)
    original = export_text(sample_path)
    snapshot_file = tmp_path / "s.toml"
    snapshot_file.write_text(original, encoding="utf-8")
    # Same file name as the source: `source` in the header is the database's name.
    target = empty_database(tmp_path / "ziel" / sample_path.name)
    with opened(target) as database:
        import_snapshots(database, [snapshot_file])
    assert without_export_time(export_text(target)) == without_export_time(original)
    indexes = sorted(line for line in dump(target) if line.startswith("CREATE INDEX"))
    assert indexes == sorted(line for line in dump(sample_path) if line.startswith("CREATE INDEX"))
    assert sum("ON history_event" in line for line in indexes) == 3


def test_an_import_into_an_empty_database_replays_each_history_once(
    sample_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reader replays every measure to check the file; the merge of a measure this
    # database lacks takes that replay instead of doing it again (half of a large import).
    snapshot_file = tmp_path / "s.toml"
    snapshot_file.write_text(export_text(sample_path), encoding="utf-8")
    replayed: Counter[frozenset[str]] = Counter()
    original = replay.replay

    def counting(events: Iterable[Event]) -> replay.Replayed:
        events = list(events)
        replayed[frozenset(event.id for event in events)] += 1
        return original(events)

    monkeypatch.setattr(replay, "replay", counting)
    target = empty_database(tmp_path / "ziel" / sample_path.name)
    with opened(target) as database:
        result = import_snapshots(database, [snapshot_file])
    assert len(result.plan.measures) == 49
    assert max(replayed.values()) == 1


def test_a_new_measure_two_files_bring_takes_the_events_of_both(
    sample_path: Path, tmp_path: Path
) -> None:
    # The replay a file's reader did is the merge's only where that file has all of the
    # measure's events: here the second file knows one change more.
    with opened(sample_path) as database:
        number = catalogue(database, "Anna").create_measure(2, "Chatbot").number
    short = tmp_path / "kurz.toml"
    short.write_text(export_text(sample_path), encoding="utf-8")
    with opened(sample_path) as database:
        catalogue(database, "Anna").edit_measure(number, note="geprüft")
    long = tmp_path / "lang.toml"
    long.write_text(export_text(sample_path), encoding="utf-8")
    for order in ((short, long), (long, short)):
        target = empty_database(tmp_path / order[0].stem / sample_path.name)
        with opened(target) as database:
            import_snapshots(database, list(order))
        assert without_export_time(export_text(target)) == without_export_time(
            export_text(sample_path)
        )


def test_a_large_import_that_fails_after_dropping_the_indexes_changes_nothing(
    sample_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_catalogue, "BULK_INDEX_REBUILD", 1)

    insert = sqlite_catalogue._insert

    def disk_full_at_the_history(session: Any, table: Any, rows: Any) -> None:
        if table.name == "history_event":  # after milestones and delays
            left = session.execute(
                sqlalchemy.text("SELECT name FROM sqlite_master WHERE name LIKE 'ix_event%'")
            ).all()
            assert left == []  # the history's indexes are dropped at this point
            raise SnapshotError("Festplatte voll (simuliert)")
        insert(session, table, rows)

    monkeypatch.setattr(sqlite_catalogue, "_insert", disk_full_at_the_history)
    snapshot_file = tmp_path / "s.toml"
    snapshot_file.write_text(export_text(sample_path), encoding="utf-8")
    target = empty_database(tmp_path / "ziel.db")
    before = dump(target)
    with opened(target) as database, pytest.raises(SnapshotError, match="simuliert"):
        import_snapshots(database, [snapshot_file])
    assert dump(target) == before  # the dropped indexes are back, no row was written
    assert sum(line.startswith("CREATE INDEX ix_event") for line in before) == 3


def test_import_into_a_database_without_fields_brings_them(tmp_path: Path) -> None:
    bare = tmp_path / "bare.db"
    create_database(bare)
    snapshot_file = tmp_path / "s.toml"
    snapshot_file.write_text(export_text(empty_database(tmp_path / "f.db")), encoding="utf-8")
    with opened(bare) as database:
        result = import_snapshots(database, [snapshot_file])
    assert [line for line in result.lines() if line.startswith("Handlungsfeld")] == [
        "Handlungsfeld 1 – E-Government (Digitale Bürger- und Unternehmensservices): neu",
        "Handlungsfeld 2 – Intelligente Digitale Infrastruktur: neu",
        "Handlungsfeld 3 – Intelligente Digitale Arbeitswelt: neu",
        "Handlungsfeld 4 – Besondere Handlungsfelder der Digitalisierung: neu",
    ]
    assert sum('INSERT INTO "field_of_action"' in line for line in dump(bare)) == 4


def test_dry_run_reports_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], built_sample: Path, tmp_path: Path
) -> None:
    changed = copy(built_sample, tmp_path / "a" / "k.db")
    with opened(changed) as database:
        catalogue(database, "Anna").change_status("1.11", Status.ON_SCHEDULE)
    snapshot_file = tmp_path / "a.toml"
    snapshot_file.write_text(export_text(changed), encoding="utf-8")
    target = copy(built_sample, tmp_path / "b" / "k.db")
    before = dump(target)
    code, out, _ = run(
        capsys, "--db", str(target), "--read-only", "import", "--dry-run", str(snapshot_file)
    )
    assert code == 0
    assert "1.11 LoRaWAN (eigenes Funknetz): 1 neuer Eintrag" in out
    assert out.splitlines()[-1] == (
        "Probelauf – nichts geschrieben. Ein Import übernähme 1 neuen Eintrag bei 1 Maßnahme."
    )
    assert dump(target) == before
    code, _, err = run(capsys, "--db", str(target), "--read-only", "import", str(snapshot_file))
    assert code == 2 and "schreibgeschützt" in err
    assert dump(target) == before


def test_a_new_measure_arrives_with_everything(built_sample: Path, tmp_path: Path) -> None:
    source = copy(built_sample, tmp_path / "a" / "k.db")
    with opened(source) as database:
        worker = catalogue(database, "Anna")
        created = worker.create_measure(4, "Digitale Sitzungen", unit="FB 15", note="neu 2021")
        worker.add_milestone(created.number, "Testsitzung", done_on=LooseDate(2021, 2))
        worker.log_delay(created.number, DelayInput(cause="Lieferengpass"))
    snapshot_file = tmp_path / "a.toml"
    snapshot_file.write_text(export_text(source), encoding="utf-8")
    target = copy(built_sample, tmp_path / "b" / "k.db")
    with opened(target) as database:
        result = import_snapshots(database, [snapshot_file])
    assert "4.11 Digitale Sitzungen: neu, 3 neue Einträge" in list(result.lines())
    assert without_export_time(export_text(target)) == without_export_time(export_text(source))


# --- conflicts -----------------------------------------------------------------------------------


def diverging_copies(built_sample: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Anna delays 1.2 (on schedule) first; Ben declares it established an hour later."""
    anna = copy(built_sample, tmp_path / "anna" / "k.db")
    ben = copy(built_sample, tmp_path / "ben" / "k.db")
    with opened(anna) as database:
        clock = TickingClock(datetime(2021, 3, 1, 9, 0, tzinfo=UTC))
        catalogue(database, "Anna", clock).change_status("1.2", Status.DELAYED)
    with opened(ben) as database:
        clock = TickingClock(datetime(2021, 3, 1, 10, 0, tzinfo=UTC))
        catalogue(database, "Ben", clock).change_status("1.2", Status.ESTABLISHED)
    for db in (anna, ben):
        db.with_suffix(".toml").write_text(export_text(db), encoding="utf-8")
    return anna, ben


def test_a_conflict_is_reported_and_the_later_change_wins(
    built_sample: Path, tmp_path: Path
) -> None:
    anna, ben = diverging_copies(built_sample, tmp_path)
    fb12 = copy(built_sample, tmp_path / "fb12" / "k.db")
    with opened(fb12) as database:
        result = import_snapshots(database, [anna.with_suffix(".toml"), ben.with_suffix(".toml")])
    text = "\n".join(result.lines())
    assert "Konflikt: beide Seiten haben 1.2 nach dem gemeinsamen Stand geändert" in text
    assert (
        f"    {anna.with_suffix('.toml')}: Status: Im Zeitplan → Verzögert (Ursache: Corona) (Anna, "
        in text
    )
    assert f"    {ben.with_suffix('.toml')}: Status: Im Zeitplan → Etabliert (Ben, " in text
    assert "es gilt die spätere Änderung: Status: Im Zeitplan → Etabliert (Ben, " in text
    assert text.endswith("Importiert: 2 neue Einträge bei 1 Maßnahme, 1 Konflikt.")
    with opened(fb12) as database:
        detail = catalogue(database, "x").measure("1.2")
    assert detail.measure.status == Status.ESTABLISHED
    assert [e.author for e in detail.history[:2]] == ["Ben", "Anna"]  # both kept


def test_merging_in_either_direction_gives_the_same_state(
    built_sample: Path, tmp_path: Path
) -> None:
    anna, ben = diverging_copies(built_sample, tmp_path)
    with opened(anna) as database:
        result = import_snapshots(database, [ben.with_suffix(".toml")])
    assert any(
        line.startswith("    diese Datenbank: Status: Im Zeitplan → Verzögert")
        for line in result.lines()
    )
    with opened(ben) as database:
        import_snapshots(database, [anna.with_suffix(".toml")])
    assert without_export_time(export_text(anna)) == without_export_time(export_text(ben))


def test_undo_events_travel_and_are_replayed(built_sample: Path, tmp_path: Path) -> None:
    source = copy(built_sample, tmp_path / "a" / "k.db")
    with opened(source) as database:
        worker = catalogue(database, "testerin")
        worker.change_status("1.3", Status.ON_SCHEDULE)  # resolves the Corona delay
        milestone = worker.add_milestone("1.3", "Zwischenstand", due=LooseDate(2022))
        worker.complete_milestone("1.3", milestone.title)
        worker.undo_last()  # the milestone is open again
        worker.undo_last()  # and gone
        worker.undo_last()  # 1.3 is delayed again, its delay open
    snapshot_file = tmp_path / "a.toml"
    snapshot_file.write_text(export_text(source), encoding="utf-8")
    target = copy(built_sample, tmp_path / "b" / "k.db")
    with opened(target) as database:
        import_snapshots(database, [snapshot_file])
        detail = catalogue(database, "x").measure("1.3")
    assert detail.measure.status == Status.DELAYED
    assert [d.is_open for d in detail.delays] == [True]
    assert detail.milestones == ()
    assert [e.kind for e in detail.history[:3]] == ["change_undone"] * 3


def test_the_same_number_created_twice_keeps_both_and_everyone_adopts_one_numbering(
    capsys: pytest.CaptureFixture[str], built_sample: Path, tmp_path: Path
) -> None:
    anna = copy(built_sample, tmp_path / "anna" / "k.db")
    ben = copy(built_sample, tmp_path / "ben" / "k.db")
    # Anna adds hers an hour before Ben adds his.
    for db, title, hour in ((anna, "Chatbot", 9), (ben, "Sensorik", 10)):
        with opened(db) as database:
            clock = TickingClock(datetime(2021, 3, 1, hour, 0, tzinfo=UTC))
            catalogue(database, "x", clock).create_measure(2, title)
    ben_file = tmp_path / "ben.toml"
    ben_file.write_text(export_text(ben), encoding="utf-8")
    code, out, err = run(capsys, "--db", str(anna), "import", str(ben_file))
    assert (code, err) == (0, "")
    # Anna's 2.9 was there first: it keeps the number, Ben's measure moves on, and says so.
    assert "2.10 Sensorik: neu, 2 neue Einträge" in out
    assert "Neue Nummer 2.10: 2.9 war schon „Chatbot“" in out
    code, out, _ = run(capsys, "--db", str(anna), "list", "--field", "2", "--format", "json")
    shown = {m["number"]: m["title"] for m in json.loads(out)["measures"]}
    assert (shown["2.9"], shown["2.10"]) == ("Chatbot", "Sensorik")
    # Ben takes Anna's snapshot: he adopts her numbering, his own measure included.
    anna_file = tmp_path / "anna.toml"
    anna_file.write_text(export_text(anna), encoding="utf-8")
    code, out, err = run(capsys, "--db", str(ben), "import", str(anna_file))
    assert (code, err) == (0, "")
    assert export_text(ben).split("\n[summary]")[1] == export_text(anna).split("\n[summary]")[1]


# --- all or nothing, and errors that say where ---------------------------------------------------


@pytest.fixture(scope="module")
def sample_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    from koordinator.core.store.sample import fill_sample

    path = tmp_path_factory.mktemp("text") / "sample.db"
    create_database(path, fill=fill_sample)
    return export_text(path)


def change_after(text: str, anchor: str, old: str, new: str) -> str:
    """Replace the first `old` after `anchor`."""
    start = text.index(anchor)
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old) :]


STATUS_EVENT_1_1 = 'kind = "status_changed"'  # the first status event: measure 1.1's


@pytest.mark.parametrize(
    ("damage", "locate", "message"),
    [
        (
            lambda t: t.replace('title = "Bürgerportal"', 'title = "Bürgerportal', 1),
            lambda t: line_of(t, 'title = "Bürgerportal'),
            "kein gültiges TOML",
        ),
        (
            lambda t: t.replace('format = "koordinator-snapshot"', 'format = "csv"'),
            lambda t: 1,
            'kein koordinator-Snapshot (erwartet format = "koordinator-snapshot")',
        ),
        (
            lambda t: t.replace("version = 2", "version = 3", 1),
            lambda t: 2,
            "Snapshot-Version 3 ist neuer als diese koordinator-Version (kennt bis 2)",
        ),
        (
            lambda t: change_after(t, 'number = "1.1"', 'status = "established"\n', ""),
            lambda t: line_of(t, 'number = "1.1"') - 1,
            "Maßnahme 1.1: Schlüssel „status“ fehlt",
        ),
        (
            lambda t: change_after(t, 'number = "1.1"', "revision = 4", 'revision = "4"'),
            lambda t: line_of(t, 'revision = "4"'),
            "Maßnahme 1.1, „revision“: erwartet eine ganze Zahl, gefunden Text „4“",
        ),
        (
            lambda t: change_after(
                t, 'number = "1.2"', 'status = "on_schedule"', 'status = "fertig"'
            ),
            lambda t: line_of(t, 'status = "fertig"'),
            "Maßnahme 1.2, „status“: unbekannter Status „fertig“",
        ),
        (
            lambda t: change_after(t, 'number = "1.2"', "field = 1", "field = 1\nstatsu = 1"),
            lambda t: line_of(t, "statsu = 1"),
            "Maßnahme 1.2, „statsu“: unbekannter Schlüssel",
        ),
        (
            lambda t: change_after(t, 'number = "2.2"', 'due = "2021"', 'due = "2021-13"'),
            lambda t: line_of(t, 'due = "2021-13"'),
            "Maßnahme 2.2, „milestones.due“: „2021-13“ ist kein Datum",
        ),
        (
            lambda t: change_after(t, 'number = "2.2"', 'due = "2021"', "due = 2021-06-30"),
            lambda t: line_of(t, "due = 2021-06-30"),
            "bitte in Anführungszeichen",
        ),
        (
            lambda t: change_after(
                t, STATUS_EVENT_1_1, 'from_status = "planning"', 'from_status = "dropped"'
            ),
            lambda t: line_of(t, 'to_status = "established"', after='from_status = "dropped"'),
            "Maßnahme 1.1, „events.to_status“: Von „Verworfen“ nach „Etabliert“ ist nicht erlaubt",
        ),
        (
            lambda t: change_after(
                t, 'number = "1.2"', 'status = "on_schedule"', 'status = "established"'
            ),
            lambda t: line_of(t, 'status = "established"', after='number = "1.2"'),
            "Maßnahme 1.2, „status“: „established“ passt nicht zum Verlauf der Datei (dort: „on_schedule“)",
        ),
        (
            lambda t: t.replace('note = "erste', 'note = "geändert: erste', 1),
            lambda t: line_of(t, 'note = "geändert: erste'),
            "Maßnahme 1.1, „milestones.note“: „geändert: erste automatisierte Prozesse",
        ),
        (
            lambda t: t.replace("total = 49", "total = 48"),
            lambda t: line_of(t, "total = 48"),
            "„summary.total“: 48 passt nicht zu den Maßnahmen der Datei (gezählt: 49)",
        ),
        (
            lambda t: change_after(t, 'number = "1.3"', 'cause = "corona"', 'cause = "   "'),
            lambda t: line_of(t, 'cause = "   "'),
            "Maßnahme 1.3, „delays.cause“: darf nicht leer sein",
        ),
    ],
)
def test_damage_is_reported_with_file_and_line_and_nothing_changes(
    capsys: pytest.CaptureFixture[str],
    sample_path: Path,
    sample_text: str,
    damage,
    locate,
    message: str,
) -> None:
    good, bad = sample_path.parent / "gut.toml", sample_path.parent / "kaputt.toml"
    good.write_text(sample_text, encoding="utf-8")
    damaged = damage(sample_text)
    assert damaged != sample_text
    bad.write_text(damaged, encoding="utf-8")
    before = dump(sample_path)
    code, out, err = run(capsys, "--db", str(sample_path), "import", str(good), str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"koordinator: {bad}:{locate(damaged)}: "), err
    assert message in err
    assert len(err.splitlines()) == 1
    assert dump(sample_path) == before


def test_a_good_file_is_not_imported_when_another_is_bad(
    built_sample: Path, tmp_path: Path, sample_text: str
) -> None:
    source = copy(built_sample, tmp_path / "a" / "k.db")
    with opened(source) as database:
        catalogue(database, "Anna").change_status("1.11", Status.ON_SCHEDULE)
    good, bad = tmp_path / "gut.toml", tmp_path / "kaputt.toml"
    good.write_text(export_text(source), encoding="utf-8")
    bad.write_text(sample_text.replace("total = 49", "total = 50"), encoding="utf-8")
    target = copy(built_sample, tmp_path / "b" / "k.db")
    before = dump(target)
    with opened(target) as database, pytest.raises(SnapshotError, match=r"kaputt\.toml:\d+:"):
        import_snapshots(database, [good, bad])
    assert dump(target) == before


def test_an_event_with_a_known_id_but_other_content_is_refused(
    sample_path: Path, sample_text: str
) -> None:
    forged = sample_path.parent / "forged.toml"
    text = sample_text.replace(
        'note = "Stand laut Bericht V111/2021"', 'note = "nachträglich geändert"', 1
    )
    forged.write_text(text, encoding="utf-8")
    before = dump(sample_path)
    with opened(sample_path) as database, pytest.raises(SnapshotError) as raised:
        import_snapshots(database, [forged])
    assert str(raised.value).startswith(f"{forged}:{header_of(text, 'nachträglich')}: Ereignis ")
    assert "hat dieselbe Id wie ein Ereignis mit anderem Inhalt (diese Datenbank)" in str(
        raised.value
    )
    assert dump(sample_path) == before


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: None, "Datei nicht gefunden"),
        (lambda p: p.mkdir(), "ist ein Ordner"),
        (lambda p: p.write_bytes(b'format = "\xff"\n'), ":1: kein UTF-8-Text"),
        (lambda p: p.write_text(""), ": kein koordinator-Snapshot"),
    ],
)
def test_unreadable_files(
    capsys: pytest.CaptureFixture[str], sample_path: Path, make, expected: str
) -> None:
    path = sample_path.parent / "x.toml"
    make(path)
    code, out, err = run(capsys, "--db", str(sample_path), "import", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"koordinator: {path}") and expected in err


def test_a_byte_order_mark_is_accepted(sample_path: Path, sample_text: str) -> None:
    path = sample_path.parent / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + sample_text.encode("utf-8"))
    with opened(sample_path) as database:
        assert import_snapshots(database, [path]).nothing_to_do


def test_the_documented_example_is_a_valid_snapshot() -> None:
    """docs/snapshot-format.md shows a real snapshot, not an approximation of one."""
    doc = (Path(__file__).parents[1] / "docs" / "snapshot-format.md").read_text(encoding="utf-8")
    example = doc.split("## Example", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    snapshot = loads(example, "snapshot-format.md")
    assert [r.state.number for r in snapshot.measures] == ["3.1"]
    assert snapshot.event_count == 3


def test_a_change_to_a_milestone_the_other_side_removed_is_skipped_and_said(
    built_sample: Path, tmp_path: Path
) -> None:
    anna = copy(built_sample, tmp_path / "anna" / "k.db")
    ben = copy(built_sample, tmp_path / "ben" / "k.db")
    with opened(anna) as database:
        anna_clock = TickingClock(datetime(2021, 3, 1, 9, 0, tzinfo=UTC))
        milestone = catalogue(database, "Anna", anna_clock).add_milestone("2.1", "Pilot")
    shared = tmp_path / "shared.toml"
    shared.write_text(export_text(anna), encoding="utf-8")
    with opened(ben) as database:
        import_snapshots(database, [shared])
    with opened(anna) as database:
        catalogue(database, "Anna", anna_clock).undo_last()  # 09:00:02, removes the milestone
    with opened(ben) as database:
        ben_clock = TickingClock(datetime(2021, 3, 1, 10, 0, tzinfo=UTC))
        catalogue(database, "Ben", ben_clock).complete_milestone(
            "2.1", "Pilot", on=LooseDate(2021, 3, 1)
        )
    ben_file = tmp_path / "ben.toml"
    ben_file.write_text(export_text(ben), encoding="utf-8")
    with opened(anna) as database:
        result = import_snapshots(database, [ben_file])
        detail = catalogue(database, "x").measure("2.1")
    text = "\n".join(result.lines())
    assert "  Nicht angewandt: Meilenstein „Pilot“ erreicht am 01.03.2021 (Ben, " in text
    assert f"– Meilenstein {milestone.id} gibt es hier nicht (mehr); es bleibt im Verlauf" in text
    assert "Konflikt: beide Seiten haben 2.1 nach dem gemeinsamen Stand geändert" in text
    assert all(m.title != "Pilot" for m in detail.milestones)
    assert [e.kind for e in detail.history[:2]] == ["milestone_completed", "change_undone"]
