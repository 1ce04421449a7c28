"""Choosing, checking, opening and creating the database file (koordinator.core.store.sqlite_store).

The promise to the user: koordinator never damages a file it does not recognise.  Whatever
`--db` points at, a file that is not a usable koordinator database is refused with a message
naming it, and left exactly as it was.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from koordinator.core import paths
from koordinator.core.errors import DatabaseError
from koordinator.core.store.models import SCHEMA_VERSION, FieldOfAction, Measure
from koordinator.core.store.sample import fill_sample
from koordinator.core.store.sqlite_store import (
    DatabaseTarget,
    SqliteStore,
    create_database,
    open_database,
    resolve_target,
    schema_sql,
)
from koordinator.core.workflow import Status
from snapshot_helpers import table_rows

OLD_MTIME_NS = 1_600_000_000_000_000_000  # 2020-09-13: any write would move it


@pytest.fixture
def opened() -> Iterator[list[SqliteStore]]:
    """Databases a test opened, closed at the end so no engine outlives its tmp_path."""
    databases: list[SqliteStore] = []
    yield databases
    for database in databases:
        database.close()


# --- which database ---------------------------------------------------------------------------


def test_the_flag_beats_the_environment_which_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    flag, env = tmp_path / "flag.db", tmp_path / "env.db"
    environ = {paths.ENV_DATABASE: str(env)}

    assert resolve_target(str(flag), environ) == DatabaseTarget(flag)
    assert resolve_target(None, environ) == DatabaseTarget(env)
    assert resolve_target("", environ) == DatabaseTarget(env)
    default = resolve_target(None, {})
    assert default.is_default
    assert default.path == paths.default_database_path()
    assert default.path.name == "koordinator.db"
    assert not resolve_target(str(flag), environ).is_default
    assert not resolve_target(None, environ).is_default


def test_the_environment_variable_is_read_from_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.ENV_DATABASE, str(tmp_path / "env.db"))
    assert resolve_target(None) == DatabaseTarget(tmp_path / "env.db")


def test_a_home_relative_path_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_target("~/k.db", {}).path == tmp_path / "k.db"


def test_an_absolute_sqlite_url_is_accepted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'url.db'}"  # sqlite:////tmp/...: four slashes, absolute
    assert resolve_target(url, {}) == DatabaseTarget(tmp_path / "url.db")


def test_a_relative_sqlite_url_names_a_relative_file() -> None:
    assert resolve_target("sqlite:///daten/k.db", {}).path == Path("daten/k.db")


@pytest.mark.parametrize(
    "url", ["postgresql://fb12@rathaus/koordinator", "mysql://db/koordinator", "sqlite://"]
)
def test_other_databases_are_refused_with_a_clear_message(url: str) -> None:
    with pytest.raises(DatabaseError) as raised:
        resolve_target(url, {})
    message = str(raised.value)
    assert url in message
    assert "SQLite" in message


def test_a_refused_url_does_not_echo_its_password() -> None:
    """The message lands on screen and in shell logs: a password must not be in it."""
    with pytest.raises(DatabaseError) as raised:
        resolve_target("postgresql://fb12:Geheim123@rathaus/koordinator", {})
    assert "Geheim123" not in str(raised.value)


# --- refusing what is not a koordinator database, without touching it -------------------------


def _text_file(path: Path) -> None:
    path.write_text("Maßnahme;Status\n1.1;Etabliert\n", encoding="utf-8")


def _empty_file(path: Path) -> None:
    path.touch()


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "inhalt.txt").write_text("nicht löschen", encoding="utf-8")


def _foreign_sqlite(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE kunde (id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO kunde (name) VALUES ('Stadtwerke');"
    )
    connection.close()


def _foreign_sqlite_with_a_version(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.executescript(
        "PRAGMA user_version = 1; CREATE TABLE measure (id INTEGER PRIMARY KEY, title TEXT);"
    )
    connection.close()


def _newer_koordinator(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.executescript(schema_sql())
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()


def _nothing(path: Path) -> None:
    pass


REFUSED: dict[str, tuple[Callable[[Path], None], str]] = {
    "text file": (_text_file, "k.db"),
    "empty file": (_empty_file, "k.db"),
    "directory": (_directory, "k.db"),
    "foreign SQLite database": (_foreign_sqlite, "k.db"),
    "foreign SQLite database with a user_version": (_foreign_sqlite_with_a_version, "k.db"),
    "newer koordinator database": (_newer_koordinator, "k.db"),
    "missing file": (_nothing, "k.db"),
    "missing folder": (_nothing, "fehlt/k.db"),
}


def _state(path: Path) -> Any:
    """Everything a write could change: contents, mtime, and what lies beside the path."""
    beside = sorted(p.name for p in path.parent.iterdir()) if path.parent.exists() else None
    if path.is_dir():
        inside = sorted((p.name, p.read_bytes()) for p in path.iterdir())
        return ("dir", inside, path.stat().st_mtime_ns, beside)
    if path.is_file():
        return ("file", path.read_bytes(), path.stat().st_mtime_ns, beside)
    return ("missing", path.parent.exists(), beside)


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_open_refuses_and_leaves_the_path_untouched(
    tmp_path: Path, case: str, read_only: bool, opened: list[SqliteStore]
) -> None:
    make, name = REFUSED[case]
    path = tmp_path / name
    make(path)
    if path.exists():
        os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    before = _state(path)

    with pytest.raises(DatabaseError) as raised:
        opened.append(open_database(DatabaseTarget(path), read_only=read_only))

    assert str(path) in str(raised.value)
    assert _state(path) == before


def test_a_newer_schema_is_refused_with_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "neu.db"
    _newer_koordinator(path)
    with pytest.raises(DatabaseError) as raised:
        open_database(DatabaseTarget(path))
    assert str(SCHEMA_VERSION + 1) in str(raised.value)
    assert str(SCHEMA_VERSION) in str(raised.value)


def test_a_missing_file_that_is_not_the_default_is_not_created(tmp_path: Path) -> None:
    """A typo in --db must not silently start an empty or sample catalogue."""
    path = tmp_path / "tippfehler.db"
    with pytest.raises(DatabaseError, match="nicht gefunden"):
        open_database(DatabaseTarget(path), create_default=fill_sample)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


# --- the default database -------------------------------------------------------------------


def test_the_default_database_is_created_with_the_sample_on_first_open(
    tmp_path: Path, opened: list[SqliteStore]
) -> None:
    target = DatabaseTarget(tmp_path / "daten" / "koordinator" / "koordinator.db", is_default=True)
    database = open_database(target, create_default=fill_sample)
    opened.append(database)
    assert target.path.is_file()
    assert not database.read_only
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Measure)) == 49
        assert session.scalar(select(func.count()).select_from(FieldOfAction)) == 4
    leftovers = [p.name for p in target.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_default_database_is_not_refilled_on_the_next_open(
    tmp_path: Path, opened: list[SqliteStore]
) -> None:
    target = DatabaseTarget(tmp_path / "koordinator.db", is_default=True)
    first = open_database(target, create_default=fill_sample)
    opened.append(first)
    with first.write() as session:
        session.execute(update(Measure).where(Measure.number == "1.1").values(note="meine Notiz"))
    first.close()

    second = open_database(target, create_default=fill_sample)
    opened.append(second)
    with second.read() as session:
        assert session.scalar(select(Measure.note).where(Measure.number == "1.1")) == (
            "meine Notiz"
        )
        assert session.scalar(select(func.count()).select_from(Measure)) == 49


# --- creating -------------------------------------------------------------------------------


def test_create_database_never_overwrites_without_being_asked(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    _foreign_sqlite(path)
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    before = _state(path)

    with pytest.raises(FileExistsError):
        create_database(path, fill=fill_sample)

    assert _state(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.db"]


def test_create_database_overwrites_when_asked(tmp_path: Path, opened: list[SqliteStore]) -> None:
    path = tmp_path / "k.db"
    _text_file(path)
    create_database(path, fill=fill_sample, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.db"]
    database = open_database(DatabaseTarget(path))
    opened.append(database)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Measure)) == 49


def test_a_new_empty_database_opens_and_carries_the_schema_version(
    tmp_path: Path, opened: list[SqliteStore]
) -> None:
    path = tmp_path / "leer.db"
    create_database(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leer.db"]
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        connection.close()
    opened.append(open_database(DatabaseTarget(path)))
    assert all(rows == [] for rows in table_rows(path).values())


def test_a_failing_fill_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken_fill(session: Any) -> None:
        fill_sample(session)
        raise RuntimeError("Abbruch mitten im Füllen")

    with pytest.raises(RuntimeError):
        create_database(tmp_path / "k.db", fill=broken_fill)
    assert list(tmp_path.iterdir()) == []


def test_create_database_in_a_missing_folder_names_it(tmp_path: Path) -> None:
    path = tmp_path / "fehlt" / "k.db"
    with pytest.raises(DatabaseError) as raised:
        create_database(path)
    assert str(path) in str(raised.value)
    assert list(tmp_path.iterdir()) == []


# --- the open database --------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path, opened: list[SqliteStore]) -> SqliteStore:
    path = tmp_path / "k.db"
    create_database(path, fill=fill_sample)
    database = open_database(DatabaseTarget(path))
    opened.append(database)
    return database


def test_the_engine_enforces_foreign_keys_uses_wal_and_waits_for_locks(
    database: SqliteStore,
) -> None:
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_a_foreign_key_violation_is_refused(database: SqliteStore) -> None:
    with pytest.raises(IntegrityError), database.write() as session:
        session.add(
            Measure(
                number="9.1",
                field_code=9,
                sequence=1,
                title="Ohne Handlungsfeld",
                origin="added",
                origin_date="2021",
                status="planning",
                updated_at="2021-03-01T09:00:00.000000Z",
            )
        )
    assert "9.1" not in {row[1] for row in table_rows(database.target.path)["measure"]}


def test_a_read_only_database_refuses_to_write(
    database: SqliteStore, opened: list[SqliteStore]
) -> None:
    read_only = open_database(database.target, read_only=True)
    opened.append(read_only)
    assert read_only.read_only
    with read_only.read() as session:
        assert session.scalar(select(func.count()).select_from(Measure)) == 49
    with pytest.raises(DatabaseError) as raised, read_only.write():
        pytest.fail("a read-only database must not open a write session")  # pragma: no cover
    assert str(database.target.path) in str(raised.value)


def test_a_successful_write_is_committed(database: SqliteStore) -> None:
    with database.write() as session:
        session.add(FieldOfAction(code=5, name="Smart City"))
    assert (5, "Smart City") in table_rows(database.target.path)["field_of_action"]


def test_a_failing_action_writes_nothing(database: SqliteStore) -> None:
    before = table_rows(database.target.path)
    with pytest.raises(RuntimeError), database.write() as session:
        session.add(FieldOfAction(code=5, name="Smart City"))
        session.execute(update(Measure).values(note="überschrieben"))
        session.flush()
        raise RuntimeError("mitten in der Aktion")
    assert table_rows(database.target.path) == before


# --- POSIX locks: the file is never opened outside SQLite while SQLite holds it -------------


def sqlite_locks_of(pid: int, path: Path) -> list[str]:
    """The POSIX locks `pid` holds on `path` (lines of /proc/locks).  A WAL connection holds a
    read lock on the file's SHARED range while it is open; a process without any believes
    it has no connection, and the last other one to close deletes the -wal under it."""
    inode = f":{path.stat().st_ino} "
    with Path("/proc/locks").open(encoding="ascii") as locks:
        return [line for line in locks if inode in line and f" {pid} " in line]


def test_the_ui_catalogue_keeps_its_sqlite_locks_through_the_background_load(
    sample_path: Path,
) -> None:
    """The UI's start-up: first reads on sqlite3, then the load (SQLAlchemy, the write side,
    its warm-up).  The load used to check the file again with open()/close(), which dropped
    the process's SQLite locks: a CLI command beside the UI then deleted the UI's -wal."""
    from koordinator.core.lazy_catalogue import open_lazy

    lazy = open_lazy(str(sample_path), read_only=False, author="anna")
    assert lazy is not None
    try:
        assert len(lazy.fields()) == 4
        assert sqlite_locks_of(os.getpid(), sample_path)
        lazy.load()
        lazy.change_status("1.11", Status.ON_SCHEDULE)
        assert sqlite_locks_of(os.getpid(), sample_path), "the UI lost its SQLite locks"
    finally:
        lazy.close()
    assert not sqlite_locks_of(os.getpid(), sample_path)


def test_a_second_open_in_the_same_process_keeps_the_first_ones_locks(sample_path: Path) -> None:
    first = open_database(DatabaseTarget(sample_path))
    try:
        first.reads.fields()
        second = open_database(DatabaseTarget(sample_path), read_only=True)
        second.close()
        assert sqlite_locks_of(os.getpid(), sample_path)
    finally:
        first.close()
