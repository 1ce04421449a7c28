"""An undo in a snapshot does what the event it undoes gives, never what the file writes
beside it (issue 14, item 4): a valid but hostile "change_undone" is refused at FILE:LINE,
the database unchanged; an honest one still imports.  Real processes: the `koordinator`
command exports, a second database imports.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest

from test_cli_parity import SAMPLE_DB, koordinator, shown

ENV_AUTHOR = ("--as", "anna")


@pytest.fixture
def anna_snapshot(tmp_path: Path) -> Path:
    """Anna edits 1.1's note, undoes it, and exports."""
    anna = tmp_path / "anna.db"
    shutil.copyfile(SAMPLE_DB, anna)
    assert koordinator(anna, *ENV_AUTHOR, "edit", "1.1", "--note", "Zwischenstand").returncode == 0
    assert koordinator(anna, *ENV_AUTHOR, "undo", "--yes").returncode == 0
    snapshot = tmp_path / "anna.toml"
    done = koordinator(anna, "export", "-o", str(snapshot))
    assert done.returncode == 0, done.stderr
    return snapshot


def _fb12(tmp_path: Path) -> Path:
    fb12 = tmp_path / "fb12.db"
    shutil.copyfile(SAMPLE_DB, fb12)
    return fb12


def _line_of(text: str, pattern: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(pattern, line):
            return number
    raise AssertionError(pattern)


def _content(db: Path) -> list[str]:
    """Every row as SQL (the file's header may change: the first write opens it in WAL)."""
    with closing(sqlite3.connect(db)) as connection:
        return list(connection.iterdump())


def _refused(fb12: Path, snapshot: Path, line: int) -> str:
    before = _content(fb12)
    title_before = shown(fb12, "1.1")["title"]
    done = koordinator(fb12, "import", str(snapshot))
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert f"{snapshot.name}:{line}:" in message
    assert _content(fb12) == before
    with closing(sqlite3.connect(fb12)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert shown(fb12, "1.1")["title"] == title_before
    return message


def test_an_honest_undo_imports_and_ends_where_the_author_ended(
    anna_snapshot: Path, tmp_path: Path
) -> None:
    fb12 = _fb12(tmp_path)
    note = shown(fb12, "1.1")["note"]
    done = koordinator(fb12, "import", str(anna_snapshot))
    assert done.returncode == 0, done.stderr
    after = shown(fb12, "1.1")
    assert after["note"] == note
    assert [e["kind"] for e in after["history"][:2]] == ["change_undone", "measure_edited"]


def test_an_undo_whose_restore_renames_the_measure_is_refused(
    anna_snapshot: Path, tmp_path: Path
) -> None:
    text = anna_snapshot.read_text(encoding="utf-8")
    header = "[measures.events.details.restore.measure]"
    assert text.count(header) == 1
    hostile = text.replace(header, f'{header}\ntitle = "Gehackt"')
    anna_snapshot.write_text(hostile, encoding="utf-8")
    line = _line_of(hostile, re.escape(header))
    message = _refused(_fb12(tmp_path), anna_snapshot, line)
    assert "passt nicht zum rückgängig gemachten Ereignis" in message


def test_an_undo_that_claims_another_summary_is_refused(
    anna_snapshot: Path, tmp_path: Path
) -> None:
    text = anna_snapshot.read_text(encoding="utf-8")
    hostile = re.sub(r'undone_summary = ".*"', 'undone_summary = "Geändert: nichts"', text)
    assert hostile != text
    anna_snapshot.write_text(hostile, encoding="utf-8")
    _refused(_fb12(tmp_path), anna_snapshot, _line_of(hostile, "undone_summary ="))


def test_an_undo_naming_an_unknown_event_is_refused(anna_snapshot: Path, tmp_path: Path) -> None:
    text = anna_snapshot.read_text(encoding="utf-8")
    hostile = re.sub(r'undone_event_id = ".*"', f'undone_event_id = "{uuid.uuid4()}"', text)
    assert hostile != text
    anna_snapshot.write_text(hostile, encoding="utf-8")
    message = _refused(_fb12(tmp_path), anna_snapshot, _line_of(hostile, "undone_event_id ="))
    assert "gibt es vor diesem „change_undone“" in message
