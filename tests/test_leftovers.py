"""Files left by a crash: `init` beside a stale `-wal` / `-shm`, and an interrupted `init`.

A process killed while it has a database open leaves SQLite's write-ahead log and index
beside the file.  A new database put at the same path must never be read with them: SQLite
would replay the old catalogue's pages into it.  `init` removes them when no process uses
them, and refuses (one line, nothing changed) while one does.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from koordinator.cli import main

OLD_TITLE_MARK = "ALTER KATALOG"


def leave_stale_wal(path: Path) -> None:
    """Change every title in the WAL and die without closing, as a crash does."""
    code = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')\n"
        f"c.execute(\"UPDATE measure SET title = '{OLD_TITLE_MARK} ' || title\")\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)
    assert path.with_name(path.name + "-wal").stat().st_size > 0


def measures_and_integrity(path: Path) -> tuple[list[str], str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        titles = [row[0] for row in connection.execute("SELECT title FROM measure")]
        (integrity,) = connection.execute("PRAGMA integrity_check").fetchone()
    finally:
        connection.close()
    return titles, integrity


@pytest.fixture
def old_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "r.db"
    assert main(["init", "--db", str(path)]) == 0
    leave_stale_wal(path)
    capsys.readouterr()
    return path


def test_init_after_the_user_deleted_the_file_ignores_its_stale_wal(
    old_catalogue: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_catalogue.unlink()  # the -wal and -shm stay, as `rm r.db` leaves them
    assert main(["init", "--empty", "--db", str(old_catalogue)]) == 0
    assert main(["--db", str(old_catalogue), "list"]) == 0
    assert "0 Maßnahmen" in capsys.readouterr().out
    assert measures_and_integrity(old_catalogue) == ([], "ok")


def test_init_overwrite_beside_a_stale_wal_gives_the_new_catalogue_only(
    old_catalogue: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--overwrite", "--db", str(old_catalogue)]) == 0
    titles, integrity = measures_and_integrity(old_catalogue)
    assert integrity == "ok"
    assert len(titles) == 49
    assert not [title for title in titles if title.startswith(OLD_TITLE_MARK)]


@pytest.fixture
def database_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """A database another process has open (a UI, say), reading now and then."""
    path = tmp_path / "r.db"
    assert main(["init", "--db", str(path)]) == 0
    capsys.readouterr()
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode=WAL'); c.execute('SELECT count(*) FROM measure')\n"
        "print('ready', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        yield path
    finally:
        holder.kill()
        holder.wait()


def test_init_overwrite_of_a_database_in_use_is_refused_and_changes_nothing(
    database_in_use: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = database_in_use.parent
    before = {file.name: file.read_bytes() for file in folder.iterdir()}
    assert main(["init", "--empty", "--overwrite", "--db", str(database_in_use)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(database_in_use) in err and "benutzt" in err
    assert {file.name: file.read_bytes() for file in folder.iterdir()} == before


def test_init_beside_companions_in_use_of_a_deleted_database_is_refused(
    database_in_use: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user deleted the file while a UI still has it open: its -wal is that UI's."""
    database_in_use.unlink()
    assert main(["init", "--db", str(database_in_use)]) == 2
    assert "benutzt" in capsys.readouterr().err
    assert not database_in_use.exists()


def _start_init(path: Path) -> subprocess.Popen[bytes]:
    koordinator = Path(sys.executable).parent / "koordinator"
    return subprocess.Popen(
        [str(koordinator), "init", "--db", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _interrupt_while_building(path: Path, signal_number: int) -> bool:
    """Start `init` and send the signal once its temporary file is there; False when the
    build was done before the signal could reach it (then the caller tries again)."""
    process = _start_init(path)
    try:
        deadline = time.monotonic() + 30
        while not list(path.parent.glob(f".{path.name}.init-*")):
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        process.send_signal(signal_number)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if path.exists():  # the signal came after the file was in place
        path.unlink()
        for leftover in path.parent.iterdir():
            leftover.unlink()
        return False
    return True


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_an_interrupted_init_leaves_nothing_behind(tmp_path: Path, signal_number: int) -> None:
    path = tmp_path / "r.db"
    assert any(_interrupt_while_building(path, signal_number) for _ in range(20))
    assert list(tmp_path.iterdir()) == []


def test_a_killed_init_leaves_a_temporary_file_that_the_next_init_removes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.db"
    assert any(_interrupt_while_building(path, signal.SIGKILL) for _ in range(20))
    assert main(["init", "--db", str(path)]) == 0
    assert [file.name for file in tmp_path.iterdir()] == ["r.db"]
    assert measures_and_integrity(path)[1] == "ok"


def test_a_temporary_file_of_a_running_init_is_not_removed(tmp_path: Path) -> None:
    """Only builds whose process is gone are cleaned up: this one's is alive (us)."""
    path = tmp_path / "r.db"
    running = tmp_path / f".r.db.init-{os.getpid()}-abc.tmp"
    running.write_bytes(b"halb gebaut")
    assert main(["init", "--db", str(path)]) == 0
    assert running.read_bytes() == b"halb gebaut"


def test_init_of_a_long_name_works_and_one_without_room_for_its_wal_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite needs the name plus "-journal" beside it: up to 247 characters work; a
    longer one is refused with one line before anything is built."""
    path = tmp_path / ("k" * 244 + ".db")
    assert main(["init", "--db", str(path)]) == 0, capsys.readouterr().err
    assert main(["--db", str(path), "status", "1.11", "on_schedule"]) == 0
    capsys.readouterr()
    too_long = tmp_path / ("k" * 245 + ".db")
    assert main(["init", "--db", str(too_long)]) == 2
    assert "Name zu lang" in capsys.readouterr().err
    assert [file.name for file in tmp_path.iterdir()] == [path.name]
