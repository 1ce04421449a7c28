"""User text is data, never code: what may be stored.

Single-line texts (title, unit, author, cause, reason, milestone title) refuse line breaks
and the bidirectional controls, notes the bidirectional controls; snapshots are held to the
same rule.  (The bad-input matrix has the one-line refusals.)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from koordinator.cli import main
from koordinator.core.catalogue import Catalogue, DelayInput
from koordinator.core.errors import InputError
from koordinator.core.text import text_problem
from koordinator.core.workflow import Status

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
