"""An older database is migrated when koordinator opens it: after a backup beside it that
the user is told about, in one transaction that leaves the original byte-identical when it
fails.

The runner's tests define a version after the real ones themselves (a column with a default,
or a rebuilt table, `next_version`) and run the real steps and it on the real version-1 files
of tests/data.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from koordinator.cli import main
from koordinator.core.dates import local_today
from koordinator.core.errors import DatabaseError
from koordinator.core.lazy_catalogue import open_lazy
from koordinator.core.service import Catalogue
from koordinator.core.store import migrations, sqlite_file
from koordinator.core.store.migrations import Migration, backup_path, statements
from koordinator.core.store.sqlite_file import check_database
from koordinator.core.store.sqlite_store import DatabaseTarget, create_database, open_database
from koordinator.tui.app import make_app
from snapshot_helpers import dump
from tui_helpers import notifications

DATA = Path(__file__).parent / "data"
V1_FILES = [DATA / "sample-v1.db", DATA / "edited-v1.db"]
ADD_PRIORITY = "ALTER TABLE measure ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


REAL = sqlite_file.SCHEMA_VERSION
NEXT = REAL + 1


def next_version(
    monkeypatch: pytest.MonkeyPatch,
    step: Callable[[sqlite3.Connection], None] | str = ADD_PRIORITY,
    *,
    columns: frozenset[str] = frozenset({"priority"}),
) -> None:
    """This koordinator knows schema version NEXT: the real one plus `columns` in
    `measure`, after the real steps."""
    migration = (
        Migration.script(REAL, "test", step)
        if isinstance(step, str)
        else Migration(REAL, "test", step)
    )
    monkeypatch.setattr(sqlite_file, "SCHEMA_VERSION", NEXT)
    required = dict(sqlite_file.REQUIRED_COLUMNS)
    required["measure"] = required["measure"] | columns
    monkeypatch.setattr(sqlite_file, "REQUIRED_COLUMNS", required)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, migration))


def copied(source: Path, folder: Path, name: str = "katalog.db") -> Path:
    path = folder / name
    shutil.copyfile(source, path)
    return path


def pragma(path: Path, name: str) -> object:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        connection.close()


def backups(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if "sicherung" in path.name)


def expected_backup(db: Path, counter: int = 1) -> Path:
    return backup_path(db, 1, local_today(), counter)


# --- migrated, backed up, told ------------------------------------------------------------


@pytest.mark.parametrize("source", V1_FILES, ids=lambda path: path.name)
@pytest.mark.parametrize("command", [["list", "--format", "json"], ["report"]])
def test_an_older_database_is_migrated_after_a_backup_the_user_is_told_about(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    source: Path,
    command: list[str],
) -> None:
    db = copied(source, tmp_path)
    before = dump(db)
    next_version(monkeypatch)
    code, out, err = run(capsys, "--db", str(db), *command)
    assert code == 0, err
    backup = expected_backup(db)
    assert backup.name == f"katalog.v1-sicherung-{local_today().isoformat()}.db"
    assert (
        err
        == f"koordinator: {db}: auf Schema-Version {NEXT} aktualisiert – Sicherung der Version 1: {backup}\n"
    )
    # The backup is the database as it was: version 1, the same rows, sound.
    assert pragma(backup, "user_version") == 1
    assert pragma(backup, "integrity_check") == "ok"
    assert dump(backup) == before
    assert backups(tmp_path) == [backup.name]
    # The database is version 2, with the new column filled by its default.
    assert pragma(db, "user_version") == NEXT
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("SELECT DISTINCT priority FROM measure").fetchall() == [(0,)]
    finally:
        connection.close()
    if command[0] == "list":
        assert json.loads(out)["total"] == 49


def test_the_migrated_database_works_and_a_second_open_does_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = copied(DATA / "edited-v1.db", tmp_path)
    next_version(monkeypatch)
    code, _, err = run(capsys, "--db", str(db), "status", "1.14", "on_schedule")
    assert code == 0 and "aktualisiert" in err
    code, out, err = run(capsys, "--db", str(db), "history", "--format", "json")
    assert (code, err) == (0, "")
    assert len(json.loads(out)["events"]) == 110
    code, out, err = run(capsys, "--db", str(db), "show", "1.14")
    assert (code, err) == (0, "") and "Im Zeitplan" in out
    assert backups(tmp_path) == [expected_backup(db).name]
    assert pragma(db, "user_version") == NEXT


def test_a_backup_of_that_name_is_never_replaced(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = copied(DATA / "sample-v1.db", tmp_path)
    taken = expected_backup(db)
    taken.write_text("eine frühere Sicherung", encoding="utf-8")
    next_version(monkeypatch)
    code, _, err = run(capsys, "--db", str(db), "list")
    assert code == 0
    second = expected_backup(db, 2)
    assert second.name == f"katalog.v1-sicherung-{local_today().isoformat()}-2.db"
    assert str(second) in err
    assert taken.read_text(encoding="utf-8") == "eine frühere Sicherung"
    assert pragma(second, "user_version") == 1


async def test_the_ui_tells_where_the_backup_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = copied(DATA / "sample-v1.db", tmp_path)
    next_version(monkeypatch)
    lazy = open_lazy(str(db), read_only=False, author="testerin")
    assert lazy is not None
    try:
        app = make_app(lazy, notice=lazy.checked.notice)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert any(str(expected_backup(db)) in shown for shown in notifications(app))
    finally:
        lazy.close()


# --- a failure leaves the original byte-identical ------------------------------------------


def _raise_halfway(connection: sqlite3.Connection) -> None:
    connection.execute(ADD_PRIORITY)
    connection.execute("UPDATE measure SET priority = 1")
    raise RuntimeError("a bug in the migration")


def _commit_halfway(connection: sqlite3.Connection) -> None:
    connection.execute(ADD_PRIORITY)
    connection.execute("COMMIT")


@pytest.mark.parametrize("source", V1_FILES, ids=lambda path: path.name)
@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (_raise_halfway, RuntimeError),
        (_commit_halfway, RuntimeError),
        # A constraint the data breaks, after the new column is there.
        (f"{ADD_PRIORITY}; UPDATE measure SET status = 'unbekannt'", "CHECK constraint failed"),
        # A measure removed under its history: found by the foreign key check.
        (f"{ADD_PRIORITY}; DELETE FROM measure WHERE number = '1.1'", "Verweise ins Leere"),
        # A column this version does not know: found by the check of the columns.
        (f"{ADD_PRIORITY}; ALTER TABLE delay ADD COLUMN extra TEXT", "fremde Spalten extra"),
    ],
    ids=["exception", "commit", "constraint", "foreign-key", "columns"],
)
def test_a_failed_migration_leaves_the_database_byte_identical(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    source: Path,
    step: Callable[[sqlite3.Connection], None] | str,
    problem: type[Exception] | str,
) -> None:
    db = copied(source, tmp_path)
    before = db.read_bytes()
    next_version(monkeypatch, step)
    if isinstance(problem, str):
        with pytest.raises(DatabaseError) as raised:
            check_database(DatabaseTarget(db))
        message = str(raised.value)
        assert "\n" not in message and problem in message
        assert message.startswith(str(db)) and "unverändert" in message
    elif step is _commit_halfway:
        # A step that commits is a bug this test exists to catch; what it committed stays.
        with pytest.raises(RuntimeError, match="ended the transaction"):
            check_database(DatabaseTarget(db))
        return
    else:
        with pytest.raises(problem):
            check_database(DatabaseTarget(db))
    assert db.read_bytes() == before
    assert backups(tmp_path) == []
    assert not (tmp_path / "katalog.db-journal").exists()


def test_a_failed_migration_is_one_line_from_the_cli_and_the_file_still_opens(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = copied(DATA / "sample-v1.db", tmp_path)
    before = db.read_bytes()
    next_version(monkeypatch, f"{ADD_PRIORITY}; DELETE FROM measure WHERE number = '1.1'")
    code, out, err = run(capsys, "--db", str(db), "status", "1.14", "on_schedule")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Verweise ins Leere" in err
    assert db.read_bytes() == before
    monkeypatch.undo()  # this koordinator again: its own steps migrate the file as before
    code, out, err = run(capsys, "--db", str(db), "list")
    assert code == 0 and "aktualisiert" in err and "49 Maßnahmen" in out


# Runs inside `unshare --mount` as root: a tmpfs of 1 MB at FOLDER, the database copied
# onto it; MODE "backup" fills the disk before the migration (no room for the backup),
# MODE "step" leaves room for the backup but not for the step's data.  Prints the message,
# whether the database kept its bytes and the files left in the folder.
_FULL_DISK = """
import json, os, shutil, subprocess, sys
from pathlib import Path

folder, source, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "koordinator-test", str(folder)], check=True)
db = folder / "katalog.db"
shutil.copyfile(source, db)
before = db.read_bytes()
if mode == "backup":
    fill = os.open(folder / "fill", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fill, bytes(4096)):
            pass
    except OSError:
        pass
    os.close(fill)

from koordinator.core.store import migrations, sqlite_file
from koordinator.core.store.sqlite_file import DatabaseTarget, check_database
from koordinator.core.errors import DatabaseError

real = sqlite_file.SCHEMA_VERSION
sqlite_file.SCHEMA_VERSION = real + 1
sqlite_file.REQUIRED_COLUMNS = {**sqlite_file.REQUIRED_COLUMNS, "measure": sqlite_file.REQUIRED_COLUMNS["measure"] | {"priority"}}
migrations.MIGRATIONS = (*migrations.MIGRATIONS, migrations.Migration.script(real, "test", '''
    ALTER TABLE measure ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    UPDATE history_event SET note = note || hex(zeroblob(20000));
'''),)
try:
    check_database(DatabaseTarget(db))
    message = ""
except DatabaseError as error:
    message = str(error)
print(json.dumps([message, db.read_bytes() == before, sorted(p.name for p in folder.iterdir())]))
"""


@pytest.mark.parametrize("source", V1_FILES, ids=lambda path: path.name)
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("backup", "die Sicherung daneben kann nicht angelegt werden (Datenträger voll)"),
        ("step", "fehlgeschlagen (Datenträger voll) – die Datenbank ist unverändert"),
    ],
)
def test_a_full_disk_leaves_the_database_byte_identical(
    tmp_path: Path, source: Path, mode: str, expected: str
) -> None:
    folder = tmp_path / "voll"
    folder.mkdir()
    done = subprocess.run(
        ["unshare", "--mount", sys.executable, "-c", _FULL_DISK, str(folder), str(source), mode],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    message, unchanged, files = json.loads(done.stdout)
    if mode == "backup" and source.name == "edited-v1.db":
        # A WAL file whose "-shm" index finds no room is read as it is, not migrated.
        expected = (
            "einmal mit Schreibrecht öffnen, um sie zu aktualisieren (jetzt: Datenträger voll)"
        )
    assert expected in message and "\n" not in message
    assert unchanged
    assert not [name for name in files if "sicherung" in name]


# The migration is killed halfway through its step (SIGKILL: no rollback, no finally).
_KILLED = """
import os, signal, sys
from pathlib import Path
from koordinator.core.store import migrations, sqlite_file
from koordinator.core.store.sqlite_file import DatabaseTarget, check_database

def killed(connection):
    connection.execute("ALTER TABLE measure ADD COLUMN priority INTEGER NOT NULL DEFAULT 0")
    connection.execute("UPDATE history_event SET note = note || hex(zeroblob(2000))")
    os.kill(os.getpid(), signal.SIGKILL)

sqlite_file.SCHEMA_VERSION = 2
migrations.MIGRATIONS = (migrations.Migration(1, "test", killed),)
check_database(DatabaseTarget(Path(sys.argv[1])))
"""


@pytest.mark.parametrize("source", V1_FILES, ids=lambda path: path.name)
def test_a_killed_migration_leaves_the_database_as_it_was(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: Path
) -> None:
    db = copied(source, tmp_path)
    before = dump(db)
    done = subprocess.run(
        [sys.executable, "-c", _KILLED, str(db)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    # The next open (SQLite rolls back what the killed process left) sees version 1, whole.
    assert pragma(db, "user_version") == 1
    assert dump(db) == before
    code, out, err = run(capsys, "--db", str(db), "list")
    assert code == 0 and "aktualisiert" in err and "49 Maßnahmen" in out
    assert pragma(db, "integrity_check") == "ok"


# --- what is not migrated ----------------------------------------------------------------


def test_a_read_only_older_database_is_refused_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = copied(DATA / "sample-v1.db", tmp_path)
    before = db.read_bytes()
    next_version(monkeypatch)
    code, out, err = run(capsys, "--db", str(db), "--read-only", "list")
    assert (code, out) == (2, "")
    assert err == (
        f"koordinator: {db}: Schema-Version 1 ist älter als diese koordinator-Version ({NEXT}) – "
        "einmal mit Schreibrecht öffnen, um sie zu aktualisieren (jetzt: --read-only)\n"
    )
    assert db.read_bytes() == before
    assert backups(tmp_path) == []


def test_a_newer_database_is_still_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = copied(DATA / "sample-v1.db", tmp_path)
    connection = sqlite3.connect(db)
    connection.execute(f"PRAGMA user_version = {NEXT + 1}")
    connection.close()
    before = db.read_bytes()
    next_version(monkeypatch)
    code, _, err = run(capsys, "--db", str(db), "list")
    assert code == 2
    assert (
        f"Schema-Version {NEXT + 1} ist neuer als diese koordinator-Version (kennt bis {NEXT})"
        in err
    )
    assert db.read_bytes() == before
    assert backups(tmp_path) == []


def test_a_foreign_database_of_an_older_version_is_not_migrated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "fremd.db"
    connection = sqlite3.connect(db)
    connection.executescript("CREATE TABLE measure (id INTEGER); PRAGMA user_version = 1;")
    connection.close()
    before = db.read_bytes()
    next_version(monkeypatch)
    with pytest.raises(DatabaseError, match="keine koordinator-Datenbank"):
        check_database(DatabaseTarget(db))
    assert db.read_bytes() == before
    assert backups(tmp_path) == []


# --- rebuilds, locks ------------------------------------------------------------------------


def _rebuild_measure(connection: sqlite3.Connection) -> None:
    """SQLite's 12 steps: a new table, the rows copied, the old one dropped (which needs
    foreign keys off: milestones, delays and events refer to it), the new one renamed."""
    (sql,) = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'measure'"
    ).fetchone()
    indexes = [
        row[0]
        for row in connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'measure' "
            "AND sql IS NOT NULL"
        )
    ]
    # A table a migration renamed is kept as CREATE TABLE "measure".
    new_sql = re.sub(r'CREATE TABLE "?measure"? \(', "CREATE TABLE measure_new (", sql).replace(
        "    updated_at TEXT NOT NULL,",
        "    updated_at TEXT NOT NULL,\n    priority INTEGER NOT NULL DEFAULT 0,",
        1,
    )
    assert new_sql != sql
    connection.execute(new_sql)
    columns = ", ".join(sorted(sqlite_file.REQUIRED_COLUMNS["measure"] - {"priority"}))
    connection.execute(f"INSERT INTO measure_new ({columns}) SELECT {columns} FROM measure")
    connection.execute("DROP TABLE measure")
    connection.execute("ALTER TABLE measure_new RENAME TO measure")
    for index in indexes:
        connection.execute(index)


@pytest.mark.parametrize("source", V1_FILES, ids=lambda path: path.name)
def test_a_table_rebuild_keeps_every_row_and_reference(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    source: Path,
) -> None:
    db = copied(source, tmp_path)
    code, events, _ = run(capsys, "--db", str(db), "history", "--format", "json")  # real steps
    next_version(monkeypatch, _rebuild_measure)
    code, out, err = run(capsys, "--db", str(db), "history", "--format", "json")
    assert code == 0 and "aktualisiert" in err, err
    assert json.loads(out) == json.loads(events)
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert (
            connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'measure'"
            ).fetchone()[0]
            == 4  # the three of schema.sql and UNIQUE (uid)
        )
    finally:
        connection.close()


def test_the_migration_waits_for_another_writer_and_backs_up_its_change(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = copied(DATA / "edited-v1.db", tmp_path)
    next_version(monkeypatch)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE measure SET note = 'vom anderen Prozess' WHERE number = '1.1'")
    result: list[object] = []

    def open_it() -> None:
        try:
            result.append(check_database(DatabaseTarget(db)).notice)
        except Exception as error:  # the assertion below shows it
            result.append(error)

    opener = threading.Thread(target=open_it)
    opener.start()
    opener.join(0.5)
    assert result == []  # it waits for the lock instead of failing
    writer.execute("COMMIT")
    writer.close()
    opener.join(60)
    assert len(result) == 1 and isinstance(result[0], str) and "aktualisiert" in result[0]
    for path in (db, expected_backup(db)):
        connection = sqlite3.connect(path)
        try:
            (note,) = connection.execute("SELECT note FROM measure WHERE number = '1.1'").fetchone()
        finally:
            connection.close()
        assert note == "vom anderen Prozess"


# --- the real migrations -------------------------------------------------------------------


def _shape(path: Path) -> dict[str, object]:
    """Every table's columns (name, type, not null, default, key), indexes and foreign
    keys, and the version: what a migration must make of an older file."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            "version": connection.execute("PRAGMA user_version").fetchone()[0],
            **{
                table: (
                    sorted(row[1:] for row in connection.execute(f"PRAGMA table_info({table})")),
                    sorted(
                        (row[1], row[2], row[3])
                        for row in connection.execute(f"PRAGMA index_list({table})")
                    ),
                    sorted(
                        row[2:5] for row in connection.execute(f"PRAGMA foreign_key_list({table})")
                    ),
                )
                for table in tables
            },
        }
    finally:
        connection.close()


def test_the_migrations_are_numbered_from_1_to_the_schema_version() -> None:
    assert [step.source for step in migrations.MIGRATIONS] == list(
        range(1, sqlite_file.SCHEMA_VERSION)
    )


@pytest.mark.parametrize("source", V1_FILES, ids=lambda path: path.name)
def test_the_real_migrations_bring_a_v1_file_to_the_shape_of_schema_sql(
    tmp_path: Path, source: Path
) -> None:
    db = copied(source, tmp_path)
    database = open_database(DatabaseTarget(db))
    try:
        assert len(Catalogue(database, author="testerin").list_measures()) == 49
    finally:
        database.close()
    fresh = tmp_path / "neu.db"
    create_database(fresh)
    assert _shape(db) == _shape(fresh)


def test_a_script_is_split_into_whole_statements() -> None:
    script = """
        CREATE TABLE t (a TEXT DEFAULT 'x;y');
        CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN UPDATE t SET a = 'b;c'; END;
        INSERT INTO t VALUES ('1')
    """
    assert list(statements(script)) == [
        "CREATE TABLE t (a TEXT DEFAULT 'x;y');",
        "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN UPDATE t SET a = 'b;c'; END;",
        "INSERT INTO t VALUES ('1')",
    ]
