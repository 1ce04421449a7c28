"""Real files of schema version 1 and snapshot format 1, made with the code of the time, keep
opening and importing: a coordinator's database and a snapshot from FB 12's archive must
still work after the schema or the format changes (tests/data/README.md says how they
were made).  Each test works on a copy; the committed files are never opened in place.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from koordinator.cli import main
from koordinator.core import snapshot_reader
from koordinator.core.errors import SnapshotError
from koordinator.core.snapshot_format import FORMAT_VERSION, Snapshot
from koordinator.core.snapshot_reader import FORMAT_READERS, load, loads

DATA = Path(__file__).parent / "data"
SAMPLE_V1 = DATA / "sample-v1.db"
EDITED_V1 = DATA / "edited-v1.db"
SNAPSHOT_V1 = DATA / "snapshot-v1.toml"

# established, on schedule, delayed, in planning, handed over, dropped: the report's figures
# for the sample; the edited file moved 1.11, 3.2, 2.3, 2.5, 1.3 and dropped 4.9 (undone).
SAMPLE_FIGURES = (9, 20, 9, 8, 2, 1)
EDITED_FIGURES = (10, 18, 10, 7, 3, 1)
ORDER = ("established", "on_schedule", "delayed", "planning", "handed_over", "dropped")
SAMPLE_EVENTS = 100
EDITED_EVENTS = 109


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def copied(source: Path, folder: Path) -> Path:
    path = folder / source.name
    shutil.copyfile(source, path)
    return path


def figures(capsys: pytest.CaptureFixture[str], db: Path) -> tuple[int, ...]:
    """The figures; the first command on a version-1 file migrates it and says so."""
    code, out, err = run(capsys, "--db", str(db), "list", "--format", "json")
    assert code == 0
    assert err == "" or (err.count("\n") == 1 and "Sicherung der Version 1" in err), err
    by_status = json.loads(out)["by_status"]
    return tuple(by_status[status] for status in ORDER)


def history(capsys: pytest.CaptureFixture[str], db: Path, *number: str) -> list[dict]:
    code, out, err = run(capsys, "--db", str(db), "history", *number, "--format", "json")
    assert (code, err) == (0, "")
    return json.loads(out)["events"]


@pytest.mark.parametrize("path", [SAMPLE_V1, EDITED_V1], ids=lambda path: path.name)
def test_the_committed_files_are_version_1_and_small(path: Path) -> None:
    # A copy: a read-only connection to a WAL file leaves -wal and -shm beside it.
    assert path.stat().st_size < 256 * 1024
    connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()


def test_the_sample_v1_opens_with_the_reports_figures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = copied(SAMPLE_V1, tmp_path)
    assert figures(capsys, db) == SAMPLE_FIGURES
    code, out, err = run(capsys, "--db", str(db), "show", "3.6")
    assert (code, err) == (0, "") and "GIS-Krisenmanagement" in out
    assert len(history(capsys, db)) == SAMPLE_EVENTS


def test_the_edited_v1_opens_with_its_changes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = copied(EDITED_V1, tmp_path)
    assert figures(capsys, db) == EDITED_FIGURES
    code, out, err = run(capsys, "--db", str(db), "show", "1.6", "--format", "json")
    assert (code, err) == (0, "")
    pilot = next(m for m in json.loads(out)["milestones"] if m["title"] == "Pilotbetrieb")
    assert (pilot["done"], pilot["done_on"], pilot["due"]) == (True, "2022-06-30", "2022-06")
    code, out, err = run(capsys, "--db", str(db), "show", "2.5", "--format", "json")
    assert [(d["cause"], d["open"]) for d in json.loads(out)["delays"] if d["open"]] == [
        ("Lieferengpass", True)
    ]
    undone, dropped = history(capsys, db, "4.9")[:2]
    assert (undone["kind"], undone["note"]) == ("change_undone", "versehentlich verworfen")
    assert (dropped["kind"], dropped["to_status"]) == ("status_changed", "dropped")
    everything = history(capsys, db)
    assert len(everything) == EDITED_EVENTS
    assert {event["author"] for event in everything[:9]} == {"anna", "ben"}
    # ... and it still takes a change.
    code, out, err = run(capsys, "--db", str(db), "status", "1.14", "on_schedule")
    assert (code, err) == (0, "")
    assert len(history(capsys, db)) == EDITED_EVENTS + 1


def test_the_snapshot_v1_reads_and_imports_into_an_empty_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    snapshot = load(SNAPSHOT_V1)
    assert (len(snapshot.measures), snapshot.event_count) == (49, EDITED_EVENTS)
    db = tmp_path / "leer.db"
    code, _, err = run(capsys, "init", "--empty", "--db", str(db))
    assert (code, err) == (0, "")
    code, _, err = run(capsys, "--db", str(db), "import", str(SNAPSHOT_V1))
    assert code == 0, err
    assert figures(capsys, db) == EDITED_FIGURES
    assert len(history(capsys, db)) == EDITED_EVENTS
    # The same file a second time brings nothing new.
    code, _, err = run(capsys, "--db", str(db), "import", str(SNAPSHOT_V1))
    assert code == 0, err
    assert len(history(capsys, db)) == EDITED_EVENTS


def test_the_snapshot_v1_imports_into_the_sample_v1_as_the_edits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = copied(SAMPLE_V1, tmp_path)
    code, _, err = run(capsys, "--db", str(db), "import", str(SNAPSHOT_V1))
    assert code == 0, err
    assert figures(capsys, db) == EDITED_FIGURES
    assert len(history(capsys, db)) == EDITED_EVENTS


# --- the snapshot reader keeps reading format 1 -------------------------------------------


def test_every_snapshot_format_version_has_its_reader() -> None:
    assert sorted(FORMAT_READERS) == list(range(1, FORMAT_VERSION + 1))


def test_format_1_is_still_read_by_its_reader_after_the_format_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A format 2 made up here: a version-1 file still goes to the format-1 reader, a
    version-2 file to its own, and a version-3 file is newer than this koordinator."""
    read_by: list[int] = []
    format_1 = FORMAT_READERS[1]

    def reader(version: int) -> Callable[[snapshot_reader._Reader, dict], Snapshot]:
        def read(reader: snapshot_reader._Reader, data: dict) -> Snapshot:
            read_by.append(version)
            return format_1(reader, data)

        return read

    monkeypatch.setattr(snapshot_reader, "FORMAT_VERSION", 2)
    monkeypatch.setitem(FORMAT_READERS, 1, reader(1))
    monkeypatch.setitem(FORMAT_READERS, 2, reader(2))
    snapshot = load(SNAPSHOT_V1)
    assert read_by == [1]
    by_status = snapshot.summary().by_status
    assert tuple(by_status[status] for status in ORDER) == EDITED_FIGURES
    text = SNAPSHOT_V1.read_text(encoding="utf-8")
    assert text.startswith('format = "koordinator-snapshot"\nversion = 1\n')
    loads(text.replace("version = 1\n", "version = 2\n", 1), "neu.toml")
    assert read_by == [1, 2]
    with pytest.raises(SnapshotError, match="Snapshot-Version 3 ist neuer"):
        loads(text.replace("version = 1\n", "version = 3\n", 1), "neuer.toml")
    with pytest.raises(SnapshotError, match=r"alt\.toml:2: .*unbekannte Snapshot-Version 0"):
        loads(text.replace("version = 1\n", "version = 0\n", 1), "alt.toml")
