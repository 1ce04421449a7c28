"""User text is data, never code: what may be stored, and how the command line prints it.

Single-line texts (title, unit, author, cause, reason, milestone title) refuse line breaks
and the bidirectional controls, notes the bidirectional controls; snapshots are held to the
same rule.  Whatever the database or a snapshot holds all the same (an older version, a
file edited by hand, a note's line breaks) is printed so that it cannot move the cursor,
overwrite or forge a line: control and bidi characters as escapes, a note's lines in show
indented under it, JSON exact.  (The bad-input matrix has the one-line refusals.)
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from koordinator.cli import main
from koordinator.core.dates import LooseDate
from koordinator.core.errors import InputError
from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database
from koordinator.core.text import printable, printable_json, text_problem
from koordinator.core.workflow import DelayInput, Status

# What a terminal must never receive from a text: it moves the cursor, clears the screen,
# overwrites the line, or reorders what is shown.
DRIVING = ("\x1b", "\x9b", "\r", "\u202e", "\u2066", "\u2028", "\x07")
FORGED = "1.1   Etabliert  Gefälschte Zeile"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_safe(output: str) -> None:
    for character in DRIVING:
        assert character not in output, (character, output[:300])


def written_by_hand(path: Path, statement: str, *values: object) -> None:
    """Change the database as an older version or sqlite3 could have (the catalogue
    refuses such texts now)."""
    with sqlite3.connect(path) as connection:
        connection.execute(statement, values)
    connection.close()


# --- what may be stored -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "single_line", "note"),
    [
        ("Bürgerportal – zweite Stufe", None, None),
        ("Spalte\tSpalte", None, None),
        ("Zeile 1\nZeile 2", "U+000A", None),
        ("Zeile 1\r\nZeile 2", "U+000D", None),
        ("Zeile 1\u2028Zeile 2", "U+2028", "U+2028"),
        ("abc\u202edef", "U+202E", "U+202E"),
        ("abc\u2067def\u2069", "U+2067", "U+2067"),
        ("12\u200f34", "U+200F", "U+200F"),
        ("\x1b[2J", "U+001B", "U+001B"),
    ],
)
def test_single_line_texts_refuse_line_breaks_and_bidi_controls_notes_the_bidi_controls(
    text: str, single_line: str | None, note: str | None
) -> None:
    for problem, code in (
        (text_problem(text), single_line),
        (text_problem(text, multiline=True), note),
    ):
        assert (problem is None) == (code is None), (text, problem)
        if code:
            assert code in problem  # type: ignore[operator]


def test_the_catalogue_refuses_a_bidi_title_and_keeps_a_note_with_line_breaks(
    catalogue: Catalogue,
) -> None:
    with pytest.raises(InputError, match=r"Maßnahme 1\.17: Titel: .*U\+202E"):
        catalogue.create_measure(1, "Portal\u202elatroP")
    with pytest.raises(InputError, match=r"Maßnahme 1\.2: Titel: .*U\+000A"):
        catalogue.edit_measure("1.2", title="Open Data\nPortal")
    with pytest.raises(InputError, match=r"Maßnahme 1\.2: Notiz: .*U\+2066"):
        catalogue.edit_measure("1.2", note="gut\u2066")
    with pytest.raises(InputError, match=r"Ursache: .*U\+000A"):
        catalogue.log_delay("1.2", DelayInput(cause="Personal\nmangel"))
    assert catalogue.measure("1.2").measure.title == "Open Data Portal"
    edited = catalogue.edit_measure("1.2", note="Zeile 1\r\nZeile 2\tmit Tab")
    assert edited.note == "Zeile 1\r\nZeile 2\tmit Tab"


def test_a_snapshot_note_with_line_breaks_imports_and_a_bidi_note_is_refused(
    catalogue: Catalogue, sample_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue.change_status("1.2", Status.ESTABLISHED, note="Zeile 1\nZeile 2")
    good = tmp_path / "gut.toml"
    assert run(capsys, "--db", str(sample_path), "export", "-o", str(good))[0] == 0
    fresh = tmp_path / "frisch.db"
    assert run(capsys, "--db", str(fresh), "init", "--empty")[0] == 0
    code, _, err = run(capsys, "--db", str(fresh), "import", str(good))
    assert code == 0, err

    bad = tmp_path / "schlecht.toml"
    bad.write_text(
        good.read_text(encoding="utf-8").replace("Zeile 1\\nZeile 2", "Zeile 1\\u202eZeile 2"),
        encoding="utf-8",
    )
    assert run(capsys, "--db", str(tmp_path / "leer.db"), "init", "--empty")[0] == 0
    code, _, err = run(capsys, "--db", str(tmp_path / "leer.db"), "import", str(bad))
    assert code == 2
    assert f"{bad}:" in err and "„events.note“" in err and "U+202E" in err


# --- printing -----------------------------------------------------------------------------------


def test_printable_escapes_what_drives_a_terminal_and_nothing_else() -> None:
    assert (
        printable("Bürgerportal – Straße ½ 漢字 Cafe\u0301")
        == "Bürgerportal – Straße ½ 漢字 Cafe\u0301"
    )
    assert (
        printable("a\x1b[2Jb\rc\nd\te\x9b\u202ef\u2028")
        == "a\\x1b[2Jb\\rc\\nd\\te\\x9b\\u202ef\\u2028"
    )
    assert printable("a\nb\tc\x1b", keep="\n\t") == "a\nb\tc\\x1b"
    text = json.dumps({"t": "a\u202eb\x9bc\x7f\u2029ä"}, ensure_ascii=False)
    assert json.loads(printable_json(text)) == json.loads(text)
    assert printable_json(text) == '{"t": "a\\u202eb\\u009bc\\u007f\\u2029ä"}'


def test_show_list_and_history_print_what_an_older_database_holds_as_escapes(
    sample_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written_by_hand(
        sample_path,
        "UPDATE measure SET title = ?, unit = ? WHERE number = '1.2'",
        f"Portal\x1b[2J\r\n{FORGED}",
        "FB\u202e21",
    )
    written_by_hand(
        sample_path,
        "UPDATE history_event SET author = ?, note = ? WHERE id = "
        "(SELECT id FROM history_event ORDER BY occurred_at DESC, id DESC LIMIT 1)",
        "anna\x9b2J",
        f"Notiz\n{FORGED}",
    )
    db = str(sample_path)

    code, out, _ = run(capsys, "--db", db, "show", "1.2")
    assert code == 0
    assert_safe(out)
    assert "1.2  Portal\\x1b[2J\\r\\n1.1   Etabliert  Gefälschte Zeile" in out
    assert "  Verantwortlich: FB\\u202e21" in out

    code, out, _ = run(capsys, "--db", db, "list")
    assert code == 0
    assert_safe(out)
    assert len(out.splitlines()) == 49 + 2  # the heading, 49 measures, the count
    assert not any(line.startswith("1.1   Etabliert  Gef") for line in out.splitlines())

    code, out, _ = run(capsys, "--db", db, "history", "--limit", "3")
    assert code == 0
    assert_safe(out)
    lines = out.splitlines()
    assert len(lines) == 3
    assert "anna\\x9b2J: " in lines[0] and lines[0].endswith(f" – Notiz\\n{FORGED}")


def test_show_prints_a_notes_lines_indented_under_it(
    catalogue: Catalogue, sample_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue.edit_measure("1.2", note=f"Erste Zeile\r\n{FORGED}\nletzte")
    written_by_hand(
        sample_path, "UPDATE measure SET note = note || ? WHERE number = '1.2'", "\x1b\u202eende"
    )
    code, out, _ = run(capsys, "--db", str(sample_path), "show", "1.2")
    assert code == 0
    assert_safe(out)
    lines = out.splitlines()
    start = lines.index("  Notiz:          Erste Zeile")
    assert lines[start + 1 : start + 3] == [" " * 18 + FORGED, " " * 18 + "letzte\\x1b\\u202eende"]
    assert lines[start + 3].startswith("  Geändert:")


def test_json_output_is_exact_and_escapes_what_drives_a_terminal(
    sample_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    title = "Portal\u202elatroP\x9b2J ä"
    written_by_hand(sample_path, "UPDATE measure SET title = ? WHERE number = '1.2'", title)
    for argv in (["show", "1.2", "--format", "json"], ["list", "--format", "json"]):
        code, out, _ = run(capsys, "--db", str(sample_path), *argv)
        assert code == 0
        assert_safe(out)
        assert "ä" in out  # not ASCII-escaped: the output stays readable
        data = json.loads(out)
        shown = data["title"] if "title" in data else data["measures"][1]["title"]
        assert shown == title


def test_export_findings_print_a_milestone_title_as_escapes(
    catalogue: Catalogue, sample_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue.add_milestone("1.2", "Migration", due=LooseDate(2020, 3))
    written_by_hand(
        sample_path,
        "UPDATE milestone SET title = ? WHERE title = 'Migration'",
        f"M\x1b[1A\r{FORGED}",
    )
    code, _, err = run(capsys, "--db", str(sample_path), "export", "-o", str(tmp_path / "s.toml"))
    assert code == 0, err
    assert_safe(err)
    assert "1.2: Meilenstein „M\\x1b[1A\\r1.1   Etabliert  Gefälschte Zeile“ überfällig" in err


def test_import_and_diff_print_a_snapshots_multi_line_note_on_its_line(
    sample_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tmp_path / "vorher.db"
    shutil.copyfile(sample_path, before)
    old = tmp_path / "alt.toml"
    assert run(capsys, "--db", str(sample_path), "export", "-o", str(old))[0] == 0
    database = open_database(DatabaseTarget(sample_path))
    try:
        Catalogue(database, author="anna").change_status(
            "1.2", Status.ESTABLISHED, note=f"fertig\n  + {FORGED}"
        )
    finally:
        database.close()
    new = tmp_path / "neu.toml"
    assert run(capsys, "--db", str(sample_path), "export", "-o", str(new))[0] == 0

    code, out, err = run(capsys, "--db", str(before), "import", str(new))
    assert code == 0, err
    assert_safe(out)
    assert not any(line.startswith(f"  + {FORGED}") for line in out.splitlines())
    assert f"– fertig\\n  + {FORGED}" in out

    code, out, err = run(capsys, "diff", str(old), str(new))
    assert code == 0, err
    assert not any(line.startswith(f"  + {FORGED}") for line in out.splitlines())
    assert f"– fertig\\n  + {FORGED}" in out
