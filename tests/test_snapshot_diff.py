"""What changed since a snapshot: grouped by field of action, in German, or as JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from koordinator.core.dates import LooseDate
from koordinator.core.diff import diff
from koordinator.core.snapshot import Snapshot, dumps, loads, snapshot_of
from koordinator.core.workflow import DelayInput, Status
from snapshot_helpers import TickingClock, catalogue, export_text, opened, run


def at(year: int, month: int, day: int) -> Callable[[], datetime]:
    return lambda: datetime(year, month, day, 12, tzinfo=UTC)


def changed_since(sample_path: Path) -> tuple[Snapshot, Snapshot]:
    """The sample on 10.01.2021, and after a coordinator's changes, on 10.01.2022."""
    with opened(sample_path) as database:
        old = snapshot_of(database, author="FB 12", clock=at(2021, 1, 10), name="alt.toml")
        anna = catalogue(database, "Anna", TickingClock(datetime(2021, 3, 1, 9, tzinfo=UTC)))
        anna.change_status("1.11", Status.ON_SCHEDULE, note="Projektstart erfolgt")
        anna.log_delay("1.2", DelayInput(since=LooseDate(2021, 3), until=LooseDate(2021, 9)))
        anna.resolve_delays("1.3", on=LooseDate(2021, 4))
        anna.complete_milestone("2.2", on=LooseDate(2021, 5))
        anna.add_milestone("1.6", "Pilotbetrieb", due=LooseDate(2021, 6))
        anna.create_measure(4, "Digitale Sitzungen")
        new = snapshot_of(database, author="Anna", clock=at(2022, 1, 10), name="neu.toml")
    return old, new


def test_text_is_grouped_by_field_and_says_who_when_why(sample_path: Path) -> None:
    old, new = changed_since(sample_path)
    text = diff(old, new).text()
    lines = text.splitlines()
    assert re.fullmatch(
        r"Änderungen von alt\.toml \(Stand 10\.01\.2021 \d\d:00, FB 12\) "
        r"bis neu\.toml \(Stand 10\.01\.2022 \d\d:00, Anna\):",
        lines[0],
    )
    field_1 = lines.index(
        "Handlungsfeld 1 – E-Government (Digitale Bürger- und Unternehmensservices)"
    )
    field_2 = lines.index("Handlungsfeld 2 – Intelligente Digitale Infrastruktur")
    field_4 = lines.index("Handlungsfeld 4 – Besondere Handlungsfelder der Digitalisierung")
    assert field_1 < field_2 < field_4
    block_1 = lines[field_1:field_2]
    assert "  1.2 Open Data Portal" in block_1
    assert any(
        re.fullmatch(
            r"    Status: In Planung → Im Zeitplan \(01\.03\.2021 \d\d:00, Anna\) – Projektstart erfolgt",
            line,
        )
        for line in block_1
    )
    assert "    Verzögerung begonnen: Corona, seit 03/2021, voraussichtlich bis 09/2021" in block_1
    assert "    Verzögerung behoben: Corona, seit 2020 – behoben 04/2021" in block_1
    assert "    Meilenstein neu überfällig: Pilotbetrieb (fällig 06/2021)" in block_1
    assert "    Meilenstein erreicht: Weitere Stadtteile mit öffentlichem WLAN (05/2021)" in lines
    assert "  4.11 Digitale Sitzungen" in lines
    assert "    neu im Katalog (In Planung)" in lines
    assert lines[-1].startswith(
        "Zusammen: 1 neue Maßnahme, 3 Statuswechsel, 1 Meilenstein erreicht"
    )


def test_json_has_the_same_content(sample_path: Path) -> None:
    old, new = changed_since(sample_path)
    data = json.loads(json.dumps(diff(old, new).to_json()))
    assert data["old"]["name"] == "alt.toml" and data["new"]["author"] == "Anna"
    assert data["counts"]["measures_added"] == 1
    assert data["counts"]["status_moves"] == 3
    assert data["counts"]["delays_opened"] == 1 and data["counts"]["delays_resolved"] == 1
    measures = {m["number"]: m for f in data["fields"] for m in f["measures"]}
    move = measures["1.11"]["status_moves"][0]
    assert (move["from"], move["to"], move["author"], move["note"], move["undo"]) == (
        "planning",
        "on_schedule",
        "Anna",
        "Projektstart erfolgt",
        False,
    )
    assert move["occurred_at"] == "2021-03-01T09:00:01.000000Z"
    assert measures["1.3"]["delays_resolved"][0]["resolved_on"] == "2021-04"
    assert measures["4.11"]["added"] is True
    assert [f["code"] for f in data["fields"]] == sorted(f["code"] for f in data["fields"])


def test_overdue_is_news_only_once(sample_path: Path) -> None:
    """A milestone already overdue at the older snapshot is not reported again."""
    with opened(sample_path) as database:
        first = snapshot_of(database, author="x", clock=at(2022, 1, 10))
        second = snapshot_of(database, author="x", clock=at(2022, 2, 10))
        much_later = snapshot_of(database, author="x", clock=at(2025, 2, 10))
    assert diff(first, second).text().endswith("Keine Änderungen.\n")
    # 2.4's "Alle Mannheimer Schulen mit Breitband versorgt" was due on 31.12.2024.
    later = diff(second, much_later)
    assert [m.title for c in later.measures for m in c.milestones_overdue] == [
        "Alle Mannheimer Schulen mit Breitband versorgt"
    ]


def test_a_mistake_and_its_undo_cancel_out_an_undo_of_an_older_move_is_shown(
    sample_path: Path,
) -> None:
    with opened(sample_path) as database:
        worker = catalogue(database, "Anna")
        worker.change_status("1.14", Status.ON_SCHEDULE)
        old = snapshot_of(database, author="x")
        worker.change_status("1.11", Status.ON_SCHEDULE)  # a mistake ...
        worker.undo_last()  # ... taken back: nothing happened to 1.11
        worker.undo_last()  # the older move of 1.14, undone after the snapshot: news
        worker.change_status("1.2", Status.ESTABLISHED)
        worker.change_status("1.2", Status.DELAYED)
        new = snapshot_of(database, author="x")
    changes = {
        c.number: [line.split(" (")[0] for line in c.lines()] for c in diff(old, new).measures
    }
    assert "1.11" not in changes
    assert changes["1.14"] == ["Status: Im Zeitplan → In Planung"]
    assert changes["1.2"][:2] == [
        "Status: Im Zeitplan → Etabliert",
        "Status: Etabliert → Verzögert",
    ]
    assert "Status jetzt: Verzögert" in changes["1.2"]  # where several moves end


def test_a_renumbered_measure_is_the_same_measure_and_says_so(sample_path: Path) -> None:
    with opened(sample_path) as database:
        old = snapshot_of(database, author="x")
        catalogue(database, "Anna").renumber("1.11", "1.30")
        new = snapshot_of(database, author="x")
    (change,) = diff(old, new).measures
    assert (change.number, list(change.lines())) == ("1.30", ["Nummer: 1.11 → 1.30"])


def test_a_snapshot_read_back_compares_like_the_original(sample_path: Path) -> None:
    old, new = changed_since(sample_path)
    reread = loads(dumps(new), "neu.toml")
    assert diff(old, reread).to_json() == diff(old, new).to_json()


def test_cli_diff_against_the_database_and_between_files(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    old_file = sample_path.parent / "alt.toml"
    old_file.write_text(export_text(sample_path), encoding="utf-8")
    assert (
        run(capsys, "--db", str(sample_path), "--as", "Anna", "status", "1.11", "Im Zeitplan")[0]
        == 0
    )
    code, out, err = run(capsys, "--db", str(sample_path), "diff", str(old_file))
    assert code == 0, err
    assert f"bis Datenbank {sample_path.name} (Stand " in out.splitlines()[0]
    assert "  1.11 LoRaWAN (eigenes Funknetz)" in out
    assert "Status: In Planung → Im Zeitplan" in out

    new_file = sample_path.parent / "neu.toml"
    new_file.write_text(export_text(sample_path), encoding="utf-8")
    code, out, _ = run(
        capsys, "--db", str(sample_path), "diff", str(old_file), str(new_file), "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["counts"]["status_moves"] == 1

    code, out, err = run(
        capsys, "--db", str(sample_path), "diff", str(sample_path.parent / "x.toml")
    )
    assert (code, out) == (2, "")
    assert err == f"koordinator: {sample_path.parent / 'x.toml'}: Datei nicht gefunden\n"
