"""A measure is identified by the id of its creation, not by its number (issue 14, item 1).

Anna and Cem each add a measure to field 1 on their own copy; both get 1.17.  FB 12 imports
both snapshots: both measures stay, the later one gets the next free number by an event the
import records and names, and whoever imports FB 12's snapshot adopts that numbering.  Every
step is a real `koordinator` process on its own database file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from test_cli_parity import SAMPLE_DB, koordinator, shown


def copies(folder: Path, *names: str) -> list[Path]:
    paths = [folder / f"{name}.db" for name in names]
    for path in paths:
        shutil.copyfile(SAMPLE_DB, path)
    return paths


def ok(db: Path, *argv: str) -> str:
    done = koordinator(db, *argv)
    assert done.returncode == 0, done.stderr
    return str(done.stdout)


def export(db: Path, name: str) -> Path:
    path = db.with_name(name)
    ok(db, "export", "-o", str(path))
    return path


def field(db: Path, code: int) -> dict[str, str]:
    listing = json.loads(ok(db, "list", "--field", str(code), "--format", "json"))
    return {measure["number"]: measure["title"] for measure in listing["measures"]}


def body(snapshot: Path) -> str:
    """A snapshot without its header (exported_at, author, source)."""
    return snapshot.read_text(encoding="utf-8").split("\n[summary]", 1)[1]


def sound(*paths: Path) -> None:
    for path in paths:
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_two_new_measures_with_one_number_both_stay_and_everyone_adopts_fb12s_numbers(
    tmp_path: Path,
) -> None:
    anna, cem, fb12 = copies(tmp_path, "anna", "cem", "fb12")
    assert ok(anna, "new", "1", "Chatbot Bürgerservice").startswith("1.17 ")
    assert ok(cem, "new", "1", "Sensorik Parkhaus").startswith("1.17 ")
    out = ok(fb12, "import", str(export(anna, "anna.toml")), str(export(cem, "cem.toml")))
    assert "Neue Nummer 1.18: 1.17 war schon „Chatbot Bürgerservice“" in out
    assert field(fb12, 1)["1.17"] == "Chatbot Bürgerservice"
    assert field(fb12, 1)["1.18"] == "Sensorik Parkhaus"
    fb12_file = export(fb12, "fb12.toml")
    for db in (anna, cem):
        ok(db, "import", str(fb12_file))
        assert field(db, 1) == field(fb12, 1)
    # One catalogue: the three exports differ only in their headers.
    assert body(export(anna, "anna-2.toml")) == body(export(cem, "cem-2.toml")) == body(fb12_file)
    sound(anna, cem, fb12)


def test_a_renumbered_measure_keeps_its_history_and_takes_later_changes_from_old_files(
    tmp_path: Path,
) -> None:
    anna, cem, fb12 = copies(tmp_path, "anna", "cem", "fb12")
    # Cem changes 1.5 in his copy; Anna (not having seen it) renumbers 1.5 to 1.30.
    ok(cem, "edit", "1.5", "--note", "Abstimmung mit FB 40")
    assert ok(anna, "renumber", "1.5", "1.30") == "1.30: Nummer 1.5 → 1.30\n"
    ok(fb12, "import", str(export(anna, "anna.toml")), str(export(cem, "cem.toml")))
    moved = shown(fb12, "1.30")
    assert moved["note"] == "Abstimmung mit FB 40"  # Cem's change found the same measure
    assert "1.5" not in field(fb12, 1)
    done = koordinator(anna, "renumber", "1.30", "1.1")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "koordinator: Die Nummer 1.1 hat schon „Bürgerportal“\n"
    sound(anna, cem, fb12)


def test_undoing_a_new_measure_withdraws_it_everywhere_and_frees_its_number(
    tmp_path: Path,
) -> None:
    anna, fb12 = copies(tmp_path, "anna", "fb12")
    ok(anna, "new", "2", "Doppelt angelegt")
    assert "Maßnahme angelegt" in ok(anna, "undo", "--yes")
    assert "2.9" not in field(anna, 2)
    report = ok(anna, "report")
    assert "Doppelt angelegt" not in report and "49 Maßnahmen" in report
    snapshot = export(anna, "anna.toml")
    assert "withdrawn = true" in snapshot.read_text(encoding="utf-8")  # its history travels
    ok(fb12, "import", str(snapshot))
    assert "2.9" not in field(fb12, 2)
    # The number is free again, here and there, and a new 2.9 clashes with nothing.
    assert ok(anna, "new", "2", "Richtig angelegt").startswith("2.9 ")
    ok(fb12, "import", str(export(anna, "anna-2.toml")))
    assert field(fb12, 2)["2.9"] == "Richtig angelegt"
    sound(anna, fb12)


def test_a_withdrawal_does_not_take_a_colleagues_change_with_it(tmp_path: Path) -> None:
    anna, ben = copies(tmp_path, "anna", "ben")
    ok(anna, "--as", "anna", "new", "2", "Gemeinsam begonnen")
    ok(ben, "import", str(export(anna, "anna.toml")))
    ok(ben, "--as", "ben", "edit", "2.9", "--note", "Ben arbeitet daran")
    ok(anna, "--as", "anna", "undo", "--yes")  # Anna has not seen Ben's note
    out = ok(anna, "import", str(export(ben, "ben.toml")))
    assert "Nicht angewandt: Rückgängig gemacht: Maßnahme angelegt" in out
    assert "ben hat die Maßnahme danach geändert" in out
    ok(ben, "import", str(export(anna, "anna-2.toml")))
    for db in (anna, ben):
        assert shown(db, "2.9")["note"] == "Ben arbeitet daran"
    assert body(export(anna, "anna-3.toml")) == body(export(ben, "ben-3.toml"))
    sound(anna, ben)
