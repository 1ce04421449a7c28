"""Opening, checking and creating koordinator databases.  The only SQLite-specific code.

* `resolve_target` turns `--db` / `KOORDINATOR_DB` / the default into a `DatabaseTarget`.
* `open_database` checks a file *without writing to it* (a text file, an empty file, a foreign
  SQLite database or a newer schema is refused and left byte-identical), then returns a
  `SqliteStore` whose engine has foreign keys on, WAL and a busy timeout.
* `SqliteStore.read()` / `SqliteStore.write()` give one short session per user action; writes
  start with BEGIN IMMEDIATE so that a second process waits for the lock instead of failing
  half-way through.
* `create_database` builds a new file from `schema.sql` in a temporary file beside the target
  and moves it into place, so that a half-built database is never seen.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from koordinator.core.errors import DatabaseError, os_reason
from koordinator.core.store import sqlite_change
from koordinator.core.store.fast_reads import Reads
from koordinator.core.store.interface import ReportRows
from koordinator.core.store.sqlite_catalogue import SqliteCatalogue
from koordinator.core.store.sqlite_change import SqliteChange
from koordinator.core.store.sqlite_file import (
    BUSY_TIMEOUT_SECONDS,
    REQUIRED_TABLES,
    SCHEMA_VERSION,
    CheckedDatabase,
    DatabaseTarget,
    check_database,
    check_database_file,
    companions,
    configure,
    damaged_message,
    file_uri,
    resolve_target,
    sqlite_error_message,
    translated_row_errors,
    user_of,
)
from koordinator.core.views import FieldView, MeasureDetail, MeasureView
from koordinator.core.workflow import Status

# Re-exported: callers (and tests) import them from here, as before they moved to dbfile.
__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "REQUIRED_TABLES",
    "CheckedDatabase",
    "DatabaseTarget",
    "SqliteStore",
    "check_database_file",
    "create_database",
    "open_database",
    "resolve_target",
    "schema_sql",
]


def schema_sql() -> str:
    """The canonical schema (the top-level schema.sql, shipped inside the package)."""
    return resources.files("koordinator.core").joinpath("schema.sql").read_text(encoding="utf-8")


class SqliteStore:
    """An open, checked koordinator database: `interface.Store` on SQLite.

    The screen's and the report's reads are `Reads` (plain SQL on sqlite3 connections); the
    rest runs on SQLAlchemy sessions, one short transaction per user action (`read`,
    `write`, used by this package's modules only).
    """

    def __init__(self, checked: CheckedDatabase, *, reads: Reads | None = None) -> None:
        self.checked = checked
        self.target = checked.target
        self.read_only = checked.read_only
        # The hot reads (lists, details) on plain sqlite3 connections; given when the UI
        # painted its first screen with them before this SqliteStore was opened.
        self.reads = reads if reads is not None else Reads(checked)
        self.engine = _make_engine(checked.uri(), read_only=checked.read_only, wal=True)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(koordinator_write=True), expire_on_commit=False
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for looking only; its transaction is rolled back at the end."""
        with _translated_errors(self.target), self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One user action: everything inside commits together or not at all."""
        if self.read_only:
            raise DatabaseError(
                f"{self.target.display}: Datenbank ist schreibgeschützt "
                f"({self.checked.read_only_reason}) – Änderungen sind hier nicht möglich"
            )
        with _translated_errors(self.target), self._write_sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.reads.close()
        self.engine.dispose()

    # --- interface.Store ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.target.path.name

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    def fields(self) -> list[FieldView]:
        return self.reads.fields()

    def list_measures(
        self,
        *,
        today: date,
        field_code: int | None = None,
        status: Status | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[MeasureView]:
        return self.reads.list_measures(
            today=today, field_code=field_code, status=status, text=text, limit=limit
        )

    def measure(self, number: str, *, today: date) -> MeasureDetail:
        return self.reads.measure(number, today=today)

    def report_rows(self, *, period_start: date, today: date) -> ReportRows:
        return self.reads.report_rows(period_start=period_start, today=today)

    def damaged_rows(self) -> AbstractContextManager[None]:
        return translated_row_errors(self.target)

    @contextmanager
    def reading_catalogue(self) -> Iterator[SqliteCatalogue]:
        with translated_row_errors(self.target), self.read() as session:
            yield SqliteCatalogue(session)

    @contextmanager
    def merging(self, *, dry_run: bool) -> Iterator[SqliteCatalogue]:
        session_of = self.read if dry_run else self.write
        with translated_row_errors(self.target), session_of() as session:
            yield SqliteCatalogue(session)

    @contextmanager
    def reading_changes(self) -> Iterator[SqliteChange]:
        with translated_row_errors(self.target), self.read() as session:
            yield SqliteChange(session.connection())

    @contextmanager
    def changing(self) -> Iterator[SqliteChange]:
        # A row this version cannot read is a damaged database, and nothing is written.
        with translated_row_errors(self.target), self.write() as session:
            yield SqliteChange(session.connection())

    def warm_up(self) -> None:
        # The first change a user saves then does not pay SQLAlchemy's first connection
        # (the dialect's set-up) and these compilations.
        with translated_row_errors(self.target), self.read() as session:
            sqlite_change.warm_up(session.connection())


@contextmanager
def _translated_errors(target: DatabaseTarget) -> Iterator[None]:
    try:
        yield
    except IntegrityError:  # a constraint: a bug, not a damaged file
        raise
    except SQLAlchemyDatabaseError as error:
        if isinstance(error.orig, sqlite3.Error):
            raise sqlite_error_message(target, error.orig) from None
        raise DatabaseError(damaged_message(target, str(error))) from None


def fill_with_sample(session: Session) -> None:
    """The sample catalogue, for a default database created on first start; its module
    (and its TOML) imported only then, not on every start."""
    from koordinator.core.store.sample import fill_sample

    fill_sample(session)


def open_database(
    target: DatabaseTarget,
    *,
    read_only: bool = False,
    create_default: Callable[[Session], None] | None = None,
) -> SqliteStore:
    """Open an existing koordinator database after checking it without writing to it.

    If the target is the default database and does not exist yet, it is created first and
    filled by `create_default` (the sample catalogue).
    """
    path = target.path
    if target.is_default and create_default is not None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # FileExistsError: another koordinator created it at the same moment; use theirs.
        with contextlib.suppress(FileExistsError):
            create_database(path, fill=create_default)
    return SqliteStore(check_database(target, read_only=read_only))


def create_database(
    path: Path,
    *,
    fill: Callable[[Session], None] | None = None,
    overwrite: bool = False,
) -> None:
    """Create a koordinator database at `path` from schema.sql, optionally filled by `fill`.

    Built in a temporary file in the same folder and moved into place at the end: an
    interrupted build leaves nothing behind (one killed outright leaves its temporary file,
    which the next build removes), and without `overwrite` an existing file is never
    replaced (FileExistsError).  SQLite's files left beside `path` by a crash (`-wal`,
    `-shm`, `-journal`) are removed before the new file takes their place, so that it is
    never read with the old catalogue's pages; while a process still uses them, nothing is
    replaced.
    """
    if not overwrite and path.exists():
        raise FileExistsError(path)
    if not path.parent.is_dir():
        raise DatabaseError(f"{path}: Ordner {path.parent} existiert nicht")
    _refuse_a_name_without_room_for_companions(path)
    _refuse_if_in_use(path)
    _remove_interrupted_builds(path)
    # Named before it exists, so that an interruption at any point finds it in `finally`.
    temporary = path.with_name(f"{_build_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        # The user's usual permissions (the umask applies), like any new file of theirs.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(schema_sql())
        finally:
            connection.close()
        if fill is not None:
            engine = _make_engine(f"{file_uri(temporary)}?mode=rw", read_only=False, wal=False)
            try:
                with sessionmaker(engine).begin() as session:
                    fill(session)
            finally:
                engine.dispose()
        _refuse_if_in_use(path)
        for leftover in companions(path):
            leftover.unlink(missing_ok=True)
        if overwrite:
            temporary.replace(path)
        else:
            # A hard link fails if `path` appeared meanwhile: no silent overwrite, no race.
            os.link(temporary, path)
    except OSError as error:
        if isinstance(error, FileExistsError):
            raise
        raise DatabaseError(f"{path}: kann nicht angelegt werden ({os_reason(error)})") from None
    finally:
        for built in (temporary, *companions(temporary)):
            built.unlink(missing_ok=True)


def _refuse_a_name_without_room_for_companions(path: Path) -> None:
    """SQLite writes `NAME-journal` and `NAME-wal` beside the database: a name the file
    system takes, but not with those, would make a database that cannot be changed."""
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    longest = max(len(os.fsencode(companion.name)) for companion in companions(path))
    if longest > limit:
        room = limit - (longest - len(os.fsencode(path.name)))
        raise DatabaseError(
            f"{path}: Name zu lang – SQLite legt daneben „…-journal“ an; höchstens {room} Zeichen"
        )


def _build_prefix(path: Path) -> str:
    # The name clipped: a name as long as the file system allows must leave room for ours.
    return f".{path.name[:100]}.init-"


def _refuse_if_in_use(path: Path) -> None:
    user = user_of(path)
    if user is not None:
        raise DatabaseError(
            f"{path}: wird gerade benutzt (Prozess {user}) – nichts geändert; "
            "koordinator dort erst beenden"
        )


def _remove_interrupted_builds(path: Path) -> None:
    """Temporary files of earlier builds whose process is gone (killed outright)."""
    prefix = _build_prefix(path)
    for leftover in path.parent.glob(f"{glob.escape(prefix)}*"):
        pid_text = leftover.name.removeprefix(prefix).partition("-")[0]
        if pid_text.isascii() and pid_text.isdigit() and not _process_alive(int(pid_text)):
            leftover.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end the process there; keep what may be in use
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _make_engine(uri: str, *, read_only: bool, wal: bool) -> Engine:
    """An engine on a SQLite URI (`CheckedDatabase.uri`: read-write, read-only, immutable)."""
    engine = create_engine(
        f"sqlite:///{uri}&uri=true", connect_args={"timeout": BUSY_TIMEOUT_SECONDS}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        configure(dbapi_connection, read_only=read_only, wal=wal)

    @event.listens_for(engine, "begin")
    def _begin(connection: object) -> None:
        options = connection.get_execution_options()  # type: ignore[attr-defined]
        mode = "IMMEDIATE" if options.get("koordinator_write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")  # type: ignore[attr-defined]

    return engine
