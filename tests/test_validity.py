"""Merged states never contradict themselves (issue 14, item 4).

Replay applies an event only where the workflow allows it in the state it meets; one that
cannot apply stays in the history, marked as a conflict, and is named in the import
output, the export's checks and the history.  Real `koordinator` processes on three copies
of the sample, one after the other (so each change is later than the one before).
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


def ok(db: Path, *argv: str) -> tuple[str, str]:
    """A command run as the database's coordinator (anna.db: anna)."""
    done = koordinator(db, "--as", db.stem, *argv)
    assert done.returncode == 0, done.stderr
    return str(done.stdout), str(done.stderr)


def export(db: Path, name: str) -> Path:
    path = db.with_name(name)
    ok(db, "export", "-o", str(path))
    return path


def open_delays(db: Path, number: str) -> list[dict[str, object]]:
    return [delay for delay in shown(db, number)["delays"] if delay["resolved_on"] is None]


def sound(*paths: Path) -> None:
    for path in paths:
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_delay_logged_after_the_other_side_handed_over_is_a_conflict_not_an_open_delay(
    tmp_path: Path,
) -> None:
    anna, ben, fb12 = copies(tmp_path, "anna", "ben", "fb12")
    ok(anna, "status", "1.6", "handed_over", "--unit", "FB 20")
    ok(ben, "delay", "1.6", "--cause", "Lieferengpass", "--since", "11/2020")
    out, _ = ok(fb12, "import", str(export(anna, "anna.toml")), str(export(ben, "ben.toml")))
    assert "Nicht angewandt: Verzögerung erfasst (Ursache: Lieferengpass) (ben" in out
    assert (
        "eine Verzögerung gehört zu „Verzögert“, die Maßnahme ist „In die Linie übergeben“" in out
    )
    measure = shown(fb12, "1.6")
    assert measure["status"] == "handed_over"
    assert open_delays(fb12, "1.6") == []
    history, _ = ok(fb12, "history", "1.6")
    assert "[Konflikt, nicht angewandt: eine Verzögerung gehört zu „Verzögert“" in history
    listed = json.loads(ok(fb12, "history", "1.6", "--format", "json")[0])["events"]
    assert [event["kind"] for event in listed if event["conflict"]] == ["delay_logged"]
    _, findings = ok(fb12, "export", "-o", str(tmp_path / "fb12.toml"))
    assert "1.6: Konflikt: Verzögerung erfasst (Ursache: Lieferengpass) (ben" in findings
    # The conflict travels as an event; every database that imports it marks it the same.
    ok(anna, "import", str(tmp_path / "fb12.toml"))
    assert open_delays(anna, "1.6") == [] and shown(anna, "1.6")["status"] == "handed_over"
    sound(anna, ben, fb12)


def test_a_hand_over_after_the_other_side_logged_a_delay_resolves_it_too(tmp_path: Path) -> None:
    anna, ben, fb12 = copies(tmp_path, "anna", "ben", "fb12")
    ok(ben, "delay", "1.6", "--cause", "Lieferengpass", "--since", "11/2020")
    ok(anna, "status", "1.6", "handed_over", "--unit", "FB 20")
    out, _ = ok(fb12, "import", str(export(anna, "anna.toml")), str(export(ben, "ben.toml")))
    assert "Nicht angewandt" not in out
    assert shown(fb12, "1.6")["status"] == "handed_over"
    assert open_delays(fb12, "1.6") == []  # no open delay on a measure handed over
    assert len(shown(fb12, "1.6")["delays"]) == 2
    _, findings = ok(fb12, "export", "-o", str(tmp_path / "fb12.toml"))
    assert "1.6:" not in findings
    sound(anna, ben, fb12)


def test_an_undo_that_meets_a_later_move_of_the_other_side_does_not_apply(tmp_path: Path) -> None:
    anna, ben = copies(tmp_path, "anna", "ben")
    ok(anna, "status", "1.2", "established")
    ok(ben, "import", str(export(anna, "anna.toml")))
    ok(ben, "status", "1.2", "handed_over", "--unit", "FB 20")
    ok(anna, "undo", "--yes")  # Anna has not seen Ben's hand-over
    out, _ = ok(anna, "import", str(export(ben, "ben.toml")))
    assert "Nicht angewandt: Rückgängig gemacht: Status: Im Zeitplan → Etabliert (anna" in out
    assert "ben hat die Maßnahme danach geändert" in out
    assert shown(anna, "1.2")["status"] == "handed_over"
    ok(ben, "import", str(export(anna, "anna-2.toml")))
    assert shown(ben, "1.2")["status"] == "handed_over"
    sound(anna, ben)
