"""Finding and checking a koordinator database file, and plain `sqlite3` connections to it.

Standard library only, no SQLAlchemy: the terminal UI paints its first screen from these
(see `koordinator.core.reads` and `koordinator.core.lazy_catalogue`) before SQLAlchemy is
imported.  `koordinator.core.db` re-exports the names, so callers keep importing them there.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from koordinator.core import paths
from koordinator.core.errors import DatabaseError

# The schema version this koordinator knows (schema.sql's `PRAGMA user_version`).
SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 30.0
# The tables of schema.sql (tests/test_db.py proves they are the models' tables).
REQUIRED_TABLES = frozenset({"field_of_action", "measure", "milestone", "delay", "history_event"})


@dataclass(frozen=True)
class DatabaseTarget:
    """Which database the user asked for: a SQLite file, and whether it is the default one."""

    path: Path
    is_default: bool = False

    @property
    def display(self) -> str:
        return str(self.path)


def chosen_database(flag: str | None, environ: Mapping[str, str] | None = None) -> str:
    """What the user chose: `--db`, else `KOORDINATOR_DB`, else '' (the default database)."""
    environ = os.environ if environ is None else environ
    return flag or environ.get(paths.ENV_DATABASE) or ""


def is_url(chosen: str) -> bool:
    return "://" in chosen


def resolve_target(flag: str | None, environ: Mapping[str, str] | None = None) -> DatabaseTarget:
    """`--db` wins over `KOORDINATOR_DB`, which wins over the user data folder."""
    chosen = chosen_database(flag, environ)
    if not chosen.strip():
        return DatabaseTarget(paths.default_database_path(), is_default=True)
    if not is_url(chosen):
        return DatabaseTarget(Path(chosen).expanduser())
    # A URL: SQLAlchemy's parser (imported only for URLs, which are rare).
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(chosen)
    except ArgumentError:
        raise DatabaseError(f"{chosen}: keine gültige Datenbank-URL") from None
    if url.get_backend_name() != "sqlite" or not url.database:
        raise DatabaseError(
            f"{url.render_as_string(hide_password=True)}: noch nicht unterstützt – koordinator arbeitet mit SQLite "
            "(Dateipfad oder sqlite:///pfad/zur/datei.db)"
        )
    return DatabaseTarget(Path(url.database).expanduser())


def check_database_file(path: Path) -> None:
    """Raise DatabaseError unless `path` is a koordinator database this version can use."""
    where = str(path)
    if path.is_dir():
        raise DatabaseError(f"{where}: ist ein Ordner, keine Datenbankdatei")
    if not path.parent.is_dir():
        raise DatabaseError(f"{where}: Ordner {path.parent} existiert nicht")
    if not path.exists():
        raise DatabaseError(
            f"{where}: Datenbank nicht gefunden – mit „koordinator init --db {where}“ anlegen"
        )
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise DatabaseError(f"{where}: kann nicht gelesen werden ({error.strerror})") from None
    if not header:
        raise DatabaseError(f"{where}: leere Datei, keine koordinator-Datenbank")
    if header != SQLITE_HEADER:
        raise DatabaseError(f"{where}: keine SQLite-Datenbank (keine koordinator-Datenbank)")
    try:
        connection = sqlite3.connect(f"{file_uri(path)}?mode=ro", uri=True)
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise DatabaseError(f"{where}: Datenbank kann nicht geöffnet werden ({error})") from None
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{where}: Schema-Version {version} ist neuer als diese koordinator-Version "
            f"(kennt bis {SCHEMA_VERSION}) – bitte koordinator aktualisieren"
        )
    missing = REQUIRED_TABLES - tables
    if version < 1 or missing:
        raise DatabaseError(
            f"{where}: SQLite-Datenbank, aber keine koordinator-Datenbank "
            f"(fehlende Tabellen: {', '.join(sorted(missing)) or 'keine'}, Schema-Version {version})"
        )


def file_uri(path: Path) -> str:
    return f"file:{quote(str(path.absolute()))}"


def connect(path: Path, *, read_only: bool, wal: bool = True) -> sqlite3.Connection:
    """A connection configured as the SQLAlchemy engine's are (`koordinator.core.db`):
    no implicit transactions, foreign keys on, a busy timeout, WAL unless read-only.

    `check_same_thread=False`: the owner (`reads.Reads`) uses each connection in one thread
    only, but closes them all from the thread that closes the database.
    """
    if read_only:
        connection = sqlite3.connect(
            f"{file_uri(path)}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_SECONDS,
            check_same_thread=False,
        )
    else:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    configure(connection, read_only=read_only, wal=wal)
    return connection


def configure(connection: sqlite3.Connection, *, read_only: bool, wal: bool) -> None:
    # We issue BEGIN ourselves; pysqlite's implicit transactions would defer taking the
    # write lock and fail with "database is locked" instead of waiting.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    if wal and not read_only:
        # Switched once per file (the mode is kept in the file): switching takes an
        # exclusive lock, and two connections switching at once (the UI's threads at
        # start) fail with "locked" at once instead of waiting.
        (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed change survives even a power cut, not just a killed process.
        cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()


def locked_message(target: DatabaseTarget) -> str:
    return (
        f"{target.display}: Datenbank ist seit {BUSY_TIMEOUT_SECONDS:.0f} s durch einen "
        "anderen Prozess gesperrt – bitte erneut versuchen"
    )


def damaged_message(target: DatabaseTarget, reason: str) -> str:
    return f"{target.display}: Datenbank ist beschädigt ({reason}) – bitte eine Sicherung verwenden"


@contextmanager
def translated_sqlite_errors(target: DatabaseTarget) -> Iterator[None]:
    """sqlite3's errors as the German one-liners `db._translated_errors` gives SQLAlchemy's."""
    try:
        yield
    except sqlite3.OperationalError as error:
        reason = str(error)
        if "locked" in reason or "busy" in reason:
            raise DatabaseError(locked_message(target)) from None
        raise DatabaseError(f"{target.display}: {reason}") from None
    except sqlite3.IntegrityError:  # a constraint: a bug, not a damaged file
        raise
    except sqlite3.DatabaseError as error:
        # "database disk image is malformed": damage beyond the pages the open check reads.
        raise DatabaseError(damaged_message(target, str(error))) from None
