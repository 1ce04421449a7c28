"""Finding and checking a koordinator database file, and plain `sqlite3` connections to it.

Standard library only, no SQLAlchemy: the terminal UI paints its first screen from these
(see `koordinator.core.store.fast_reads` and `koordinator.core.lazy_catalogue`) before SQLAlchemy is
imported.  `koordinator.core.store.sqlite_store` re-exports the names, so callers keep importing them there.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import struct
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from koordinator.core import paths, records
from koordinator.core.errors import DatabaseError, os_reason

# The schema version this koordinator knows (schema.sql's `PRAGMA user_version`).
SCHEMA_VERSION = 2
BUSY_TIMEOUT_SECONDS = 30.0


# The tables of schema.sql and their columns (tests/test_schema.py proves they are the
# models' and schema.sql's): the records' columns, with the keys that tie rows together.
def _columns(record_type: type, *keys: str) -> frozenset[str]:
    return frozenset(
        {"id" if name == "key" else name for name in records.columns(record_type)} | set(keys)
    )


REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "field_of_action": frozenset({"code", "name"}),
    "measure": _columns(records.Measure, "sequence"),
    "milestone": _columns(records.Milestone, "measure_id"),
    "delay": _columns(records.Delay, "measure_id"),
    # An event names its measure by the measure's row (whose uid is the event's `measure`);
    # `number` and `where` are for messages.
    "history_event": _columns(records.Event, "measure_id", "conflict")
    - {"number", "measure", "where"},
}
REQUIRED_TABLES = frozenset(REQUIRED_COLUMNS)
# The tables every koordinator database has had since schema version 1: an older file
# with them is migrated (`koordinator.core.store.migrations`), one without them is foreign.
VERSION_1_TABLES = frozenset({"field_of_action", "measure", "milestone", "delay", "history_event"})


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


@dataclass(frozen=True)
class CheckedDatabase:
    """A database file that `check_database` found usable, and how to open it.

    Only `check_database` makes one, and it runs before this process's first connection to
    the file: it is the one place that looks at the file outside SQLite (by `os.stat` and
    `os.access`, never by opening it), because closing any descriptor of a file drops every
    POSIX lock the process holds on it, SQLite's included ("How To Corrupt An SQLite
    SqliteStore File", 2.2).  `Reads` and `SqliteStore` take a `CheckedDatabase`, so whatever they
    open later needs no second look at the file.
    """

    target: DatabaseTarget
    # Why changes are refused (German, for the message), or "" when they are allowed.
    read_only_reason: str = ""
    # Read without SQLite's shared-memory index: the folder or the disk cannot take the
    # "-shm" file, and there is no "-wal" file whose changes the reads would miss, so no
    # other process can be writing.
    immutable: bool = False
    # One German line for the user when the check migrated an older file (where its
    # backup is), or "": the CLI prints it on stderr, the UI shows it as a notification.
    notice: str = ""

    @property
    def read_only(self) -> bool:
        return bool(self.read_only_reason)

    def uri(self) -> str:
        if self.immutable:
            return f"{file_uri(self.target.path)}?immutable=1"
        if self.read_only:
            return f"{file_uri(self.target.path)}?mode=ro"
        return f"{file_uri(self.target.path)}?mode=rw"


def check_database_file(path: Path) -> None:
    """Raise DatabaseError unless `path` is a koordinator database this version can use."""
    check_database(DatabaseTarget(path))


def check_database(target: DatabaseTarget, *, read_only: bool = False) -> CheckedDatabase:
    """Check `target` without writing to it and return how to open it, or raise
    DatabaseError with one German line.  Call it before the process connects to the file
    (see `CheckedDatabase`); `read_only` is the user's wish (`--read-only`)."""
    path = target.path
    where = target.display
    kind = _file_kind(path, where)
    if kind.st_size == 0:
        raise DatabaseError(f"{where}: leere Datei, keine koordinator-Datenbank")
    if not os.access(path, os.R_OK):
        raise DatabaseError(f"{where}: kann nicht gelesen werden (keine Leseberechtigung)")
    reason = "--read-only" if read_only else _unwritable_reason(path)
    checked = CheckedDatabase(target, read_only_reason=reason)
    try:
        version = _check_schema(checked)
    except sqlite3.OperationalError as error:
        if not _needs_shared_memory(error):
            raise _open_error(target, error) from None
        # A WAL database's readers need the "-shm" index: without a folder or disk that
        # takes it, read the file as it is, if no "-wal" holds changes it lacks.
        if _has_wal_content(path):
            raise DatabaseError(
                f"{where}: kann nicht gelesen werden – {path.name}-wal enthält noch Änderungen, "
                f"aber {reason or 'der Ordner'} lässt SQLite den Index {path.name}-shm nicht anlegen"
            ) from None
        checked = CheckedDatabase(
            target, read_only_reason=reason or _disk_full_reason(path), immutable=True
        )
        try:
            version = _check_schema(checked)
        except sqlite3.Error as second:
            raise _open_error(target, second) from None
    except sqlite3.Error as error:
        raise _open_error(target, error) from None
    if version < SCHEMA_VERSION:
        return _migrated(checked, version)
    return checked


def _migrated(checked: CheckedDatabase, version: int) -> CheckedDatabase:
    """An older database brought to this version (`koordinator.core.store.migrations`), or one
    line saying why not.  A file that cannot be written is not read either: the reads of
    this version need its schema, and only a writable open can migrate it."""
    target = checked.target
    if checked.read_only:
        raise DatabaseError(
            f"{target.display}: Schema-Version {version} ist älter als diese koordinator-Version "
            f"({SCHEMA_VERSION}) – einmal mit Schreibrecht öffnen, um sie zu aktualisieren "
            f"(jetzt: {checked.read_only_reason})"
        )
    from koordinator.core.store.migrations import migrate  # imported only when there is work

    return replace(checked, notice=migrate(target))


def _file_kind(path: Path, where: str) -> os.stat_result:
    """The file's status, or one line saying why it is not a file koordinator can open."""
    try:
        status = path.stat()
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise DatabaseError(f"{where}: Ordner {path.parent} existiert nicht") from None
        raise DatabaseError(
            f"{where}: Datenbank nicht gefunden – mit „koordinator init --db {where}“ anlegen"
        ) from None
    except (OSError, ValueError) as error:
        raise DatabaseError(f"{where}: kann nicht gelesen werden ({os_reason(error)})") from None
    if stat.S_ISDIR(status.st_mode):
        raise DatabaseError(f"{where}: ist ein Ordner, keine Datenbankdatei")
    if not stat.S_ISREG(status.st_mode):
        raise DatabaseError(
            f"{where}: ist keine gewöhnliche Datei ({_node_kind(status.st_mode)}), "
            "keine koordinator-Datenbank"
        )
    return status


def _node_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "eine FIFO"
    if stat.S_ISSOCK(mode):
        return "ein Socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "ein Gerät"
    return "kein Dateiinhalt"


def _unwritable_reason(path: Path) -> str:
    """Why changes to the file cannot be saved, or "" (SQLite writes the file, and its
    "-wal" and "-shm" beside it)."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "schreibgeschütztes Dateisystem"
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return "Datei schreibgeschützt"
    if not os.access(path.parent, os.W_OK):
        return f"Ordner {path.parent} schreibgeschützt"
    return ""


def _disk_full_reason(path: Path) -> str:
    try:
        if os.statvfs(path.parent).f_bavail == 0:
            return "Datenträger voll"
    except OSError:
        pass
    return "Index-Datei kann nicht angelegt werden"


def _needs_shared_memory(error: sqlite3.OperationalError) -> bool:
    reason = str(error)
    return any(
        words in reason for words in ("disk I/O error", "readonly database", "unable to open")
    )


def _has_wal_content(path: Path) -> bool:
    try:
        return path.with_name(f"{path.name}-wal").stat().st_size > 0
    except FileNotFoundError:
        return False


def _check_schema(checked: CheckedDatabase) -> int:
    """The schema version, through a read-only connection; a database of this version has
    exactly its tables and columns, an older one at least the tables of version 1 (the
    migration checks the rest).  Raises DatabaseError for a newer or a foreign file."""
    target = checked.target
    where = target.display
    read_uri = checked.uri() if checked.immutable else f"{file_uri(target.path)}?mode=ro"
    connection = sqlite3.connect(read_uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        columns = read_columns(connection)
    finally:
        connection.close()
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{where}: Schema-Version {version} ist neuer als diese koordinator-Version "
            f"(kennt bis {SCHEMA_VERSION}) – bitte koordinator aktualisieren"
        )
    tables = REQUIRED_TABLES if version == SCHEMA_VERSION else VERSION_1_TABLES
    missing = tables - columns.keys()
    if version < 1 or missing:
        raise DatabaseError(
            f"{where}: SQLite-Datenbank, aber keine koordinator-Datenbank "
            f"(fehlende Tabellen: {', '.join(sorted(missing)) or 'keine'}, Schema-Version {version})"
        )
    if version == SCHEMA_VERSION:
        check_columns(target, columns)
    return version


def read_columns(connection: sqlite3.Connection) -> dict[str, set[str]]:
    """The columns of the koordinator tables the file has (REQUIRED_TABLES)."""
    columns: dict[str, set[str]] = {}
    for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        if table in REQUIRED_COLUMNS:
            columns[table] = {
                row[0]
                for row in connection.execute("SELECT name FROM pragma_table_info(?)", (table,))
            }
    return columns


def check_columns(target: DatabaseTarget, columns: Mapping[str, set[str]]) -> None:
    """Exactly the tables and columns of this version, or the one line of a damaged
    database."""
    problem = column_problem(columns)
    if problem:
        raise DatabaseError(damaged_message(target, problem))


def column_problem(columns: Mapping[str, set[str]]) -> str:
    """What differs from this version's tables and columns (REQUIRED_COLUMNS), or ""."""
    for table, expected in REQUIRED_COLUMNS.items():
        found = columns.get(table, set())
        if found != expected:
            absent = ", ".join(sorted(expected - found)) or "keine"
            unknown = ", ".join(sorted(found - expected)) or "keine"
            return f"Tabelle {table}: fehlende Spalten {absent}, fremde Spalten {unknown}"
    return ""


def _open_error(target: DatabaseTarget, error: sqlite3.Error) -> DatabaseError:
    reason = str(error)
    if "file is not a database" in reason:
        # Its first bytes are not read outside SQLite (see CheckedDatabase), so a damaged
        # header and a file of another kind look alike.
        return DatabaseError(
            f"{target.display}: keine SQLite-Datenbank oder beschädigt (keine koordinator-Datenbank)"
        )
    if "locked" in reason or "busy" in reason:
        return DatabaseError(locked_message(target))
    return DatabaseError(f"{target.display}: Datenbank kann nicht geöffnet werden ({reason})")


# SQLite's POSIX locks (os_unix.c): on the database file the PENDING, RESERVED and SHARED
# bytes; on the "-shm" index the WAL locks and the "dead man switch" byte after them.
_DATABASE_LOCK_BYTES = (0x40000000, 512)
_SHM_LOCK_BYTES = (120, 9)
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def companions(path: Path) -> list[Path]:
    """SQLite's files beside a database: its write-ahead log, its index, its rollback journal."""
    return [path.with_name(path.name + suffix) for suffix in COMPANION_SUFFIXES]


def user_of(path: Path) -> int | None:
    """The id of a process that has the database at `path` open (it holds SQLite's locks on
    the file or on its "-shm"), or None.

    Only for a file this process has no connection to (`create_database` replacing it): the
    probe opens and closes the files, which would drop this process's own SQLite locks.
    """
    for file, (start, length) in (
        (path, _DATABASE_LOCK_BYTES),
        (path.with_name(f"{path.name}-shm"), _SHM_LOCK_BYTES),
    ):
        holder = _lock_holder(file, start, length)
        if holder is not None:
            return holder
    return None


def _lock_holder(file: Path, start: int, length: int) -> int | None:
    try:
        import fcntl
    except ImportError:  # Windows: a file in use cannot be removed there anyway
        return None
    linux = sys.platform.startswith("linux")
    layout = "hhqqi4x" if linux else "qqihh"  # struct flock on Linux / on the BSDs and macOS
    fields = (fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
    request = struct.pack(layout, *(fields if linux else (*fields[2:], *fields[:2])))
    try:
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        answer = struct.unpack(layout, fcntl.fcntl(descriptor, fcntl.F_GETLK, request))
    finally:
        os.close(descriptor)
    kind, pid = (answer[0], answer[4]) if linux else (answer[3], answer[2])
    return None if kind == fcntl.F_UNLCK else pid


def file_uri(path: Path) -> str:
    return f"file:{quote(str(path.absolute()))}"


def connect(checked: CheckedDatabase) -> sqlite3.Connection:
    """A connection configured as the SQLAlchemy engine's are (`koordinator.core.store.sqlite_store`):
    no implicit transactions, foreign keys on, a busy timeout, WAL unless read-only.

    `check_same_thread=False`: the owner (`reads.Reads`) uses each connection in one thread
    only, but closes them all from the thread that closes the database.
    """
    connection = sqlite3.connect(
        checked.uri(), uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
    )
    configure(connection, read_only=checked.read_only, wal=True)
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
        _switch_to_wal(cursor)
        # FULL: a committed change survives even a power cut, not just a killed process.
        cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """WAL mode, switched once per file.  SQLite answers a switch that meets another
    process's switch (or its first read) with "locked" at once, without its busy handler:
    two windows or commands opening a file that was never opened (a copy of sample.db)
    would have one of them fail.  Retried until the busy timeout, as any lock is waited for."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if mode != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def locked_message(target: DatabaseTarget) -> str:
    return (
        f"{target.display}: Datenbank ist seit {BUSY_TIMEOUT_SECONDS:.0f} s durch einen "
        "anderen Prozess gesperrt – bitte erneut versuchen"
    )


def damaged_message(target: DatabaseTarget, reason: str) -> str:
    return f"{target.display}: Datenbank ist beschädigt ({reason}) – bitte eine Sicherung verwenden"


# What a row of a damaged (or hand-edited) file raises while it is turned into a view or a
# state: an unknown status code (ValueError), details that are no JSON object
# (json.JSONDecodeError is a ValueError) or lack a key (KeyError), or hold a value of
# another kind (TypeError, AttributeError).  The schema's checks keep them out of a sound
# database.
ROW_ERRORS = (ValueError, KeyError, TypeError, AttributeError)


def sqlite_error_message(target: DatabaseTarget, error: sqlite3.Error) -> DatabaseError:
    """An sqlite3 error (from sqlite3 itself or as SQLAlchemy's `orig`) as one German line:
    locked, damaged ("database disk image is malformed", text that is not UTF-8), or
    SQLite's own reason."""
    reason = str(error)
    if isinstance(error, sqlite3.OperationalError):
        if "locked" in reason or "busy" in reason:
            return DatabaseError(locked_message(target))
        if "Could not decode to UTF-8" not in reason:
            return DatabaseError(f"{target.display}: {reason}")
    return DatabaseError(damaged_message(target, reason))


@contextmanager
def translated_sqlite_errors(target: DatabaseTarget) -> Iterator[None]:
    """sqlite3's errors as the German one-liners `db._translated_errors` gives SQLAlchemy's."""
    try:
        yield
    except sqlite3.IntegrityError:  # a constraint: a bug, not a damaged file
        raise
    except sqlite3.Error as error:
        raise sqlite_error_message(target, error) from None


@contextmanager
def translated_row_errors(target: DatabaseTarget) -> Iterator[None]:
    """`translated_sqlite_errors`, and a row this version cannot read (ROW_ERRORS, while
    rows are read and turned into views or states) as the one line of a damaged database:
    never a traceback, and a write that met one is rolled back."""
    try:
        with translated_sqlite_errors(target):
            yield
    except ROW_ERRORS as error:
        raise DatabaseError(damaged_message(target, row_problem(error))) from None


def row_problem(error: Exception) -> str:
    """What was wrong with the row, for the message of the damaged database."""
    if isinstance(error, json.JSONDecodeError):
        return f"Details eines Ereignisses sind kein gültiges JSON: {error.msg}"
    if isinstance(error, KeyError):
        return f"Schlüssel {error} fehlt"
    return str(error) or type(error).__name__
