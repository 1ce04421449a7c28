"""Opening, checking and creating koordinator databases.  The only SQLite-specific code.

* `resolve_target` turns `--db` / `KOORDINATOR_DB` / the default into a `DatabaseTarget`.
* `open_database` checks a file *without writing to it* (a text file, an empty file, a foreign
  SQLite database or a newer schema is refused and left byte-identical), then returns a
  `Database` whose engine has foreign keys on, WAL and a busy timeout.
* `Database.read()` / `Database.write()` give one short session per user action; writes
  start with BEGIN IMMEDIATE so that a second process waits for the lock instead of failing
  half-way through.
* `create_database` builds a new file from `schema.sql` in a temporary file beside the target
  and moves it into place, so that a half-built database is never seen.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.orm import Session, sessionmaker

from koordinator.core import paths
from koordinator.core.errors import DatabaseError
from koordinator.core.models import SCHEMA_VERSION, Base

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 30.0
REQUIRED_TABLES = frozenset(Base.metadata.tables)


@dataclass(frozen=True)
class DatabaseTarget:
    """Which database the user asked for: a SQLite file, and whether it is the default one."""

    path: Path
    is_default: bool = False

    @property
    def display(self) -> str:
        return str(self.path)


def resolve_target(flag: str | None, environ: Mapping[str, str] | None = None) -> DatabaseTarget:
    """`--db` wins over `KOORDINATOR_DB`, which wins over the user data folder."""
    environ = os.environ if environ is None else environ
    chosen = flag or environ.get(paths.ENV_DATABASE) or ""
    if not chosen.strip():
        return DatabaseTarget(paths.default_database_path(), is_default=True)
    if "://" not in chosen:
        return DatabaseTarget(Path(chosen).expanduser())
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


def schema_sql() -> str:
    """The canonical schema (the top-level schema.sql, shipped inside the package)."""
    return resources.files("koordinator.core").joinpath("schema.sql").read_text(encoding="utf-8")


class Database:
    """An open, checked koordinator database and its session factories."""

    def __init__(self, target: DatabaseTarget, *, read_only: bool) -> None:
        self.target = target
        self.read_only = read_only
        self.engine = _make_engine(target.path, read_only=read_only, wal=True)
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
            raise DatabaseError(f"{self.target.display}: Datenbank ist schreibgeschützt")
        with _translated_errors(self.target), self._write_sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def _translated_errors(target: DatabaseTarget) -> Iterator[None]:
    try:
        yield
    except OperationalError as error:
        reason = str(error.orig) if error.orig else str(error)
        if "locked" in reason or "busy" in reason:
            raise DatabaseError(
                f"{target.display}: Datenbank ist seit {BUSY_TIMEOUT_SECONDS:.0f} s durch einen "
                "anderen Prozess gesperrt – bitte erneut versuchen"
            ) from None
        raise DatabaseError(f"{target.display}: {reason}") from None
    except SQLAlchemyDatabaseError as error:
        if isinstance(error, IntegrityError):  # a constraint: a bug, not a damaged file
            raise
        # "database disk image is malformed": damage beyond the pages the open check reads.
        reason = str(error.orig) if error.orig else str(error)
        raise DatabaseError(
            f"{target.display}: Datenbank ist beschädigt ({reason}) – bitte eine Sicherung verwenden"
        ) from None


def open_database(
    target: DatabaseTarget,
    *,
    read_only: bool = False,
    create_default: Callable[[Session], None] | None = None,
) -> Database:
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
    check_database_file(path)
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return Database(target, read_only=read_only or not writable)


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
        connection = sqlite3.connect(f"{_file_uri(path)}?mode=ro", uri=True)
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


def create_database(
    path: Path,
    *,
    fill: Callable[[Session], None] | None = None,
    overwrite: bool = False,
) -> None:
    """Create a koordinator database at `path` from schema.sql, optionally filled by `fill`.

    Built in a temporary file in the same folder and moved into place at the end: an
    interrupted build leaves nothing behind, and without `overwrite` an existing file is
    never replaced (FileExistsError).
    """
    if not overwrite and path.exists():
        raise FileExistsError(path)
    if not path.parent.is_dir():
        raise DatabaseError(f"{path}: Ordner {path.parent} existiert nicht")
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    os.close(handle)
    temporary = Path(temporary_name)
    # mkstemp makes the file private (0600); a database gets the user's usual permissions.
    umask = os.umask(0)
    os.umask(umask)
    temporary.chmod(0o666 & ~umask)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(schema_sql())
        finally:
            connection.close()
        if fill is not None:
            engine = _make_engine(temporary, read_only=False, wal=False)
            try:
                with sessionmaker(engine).begin() as session:
                    fill(session)
            finally:
                engine.dispose()
        if overwrite:
            temporary.replace(path)
        else:
            # A hard link fails if `path` appeared meanwhile: no silent overwrite, no race.
            os.link(temporary, path)
    except OSError as error:
        if isinstance(error, FileExistsError):
            raise
        raise DatabaseError(f"{path}: kann nicht angelegt werden ({error.strerror})") from None
    finally:
        temporary.unlink(missing_ok=True)


def _file_uri(path: Path) -> str:
    return f"file:{quote(str(path.absolute()))}"


def _make_engine(path: Path, *, read_only: bool, wal: bool) -> Engine:
    if read_only:
        engine = create_engine(
            f"sqlite:///{_file_uri(path)}?mode=ro&uri=true",
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
        )
    else:
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # We issue BEGIN ourselves (below); pysqlite's implicit transactions would defer
        # taking the write lock and fail with "database is locked" instead of waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if wal and not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed change survives even a power cut, not just a killed process.
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: object) -> None:
        options = connection.get_execution_options()  # type: ignore[attr-defined]
        mode = "IMMEDIATE" if options.get("koordinator_write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")  # type: ignore[attr-defined]

    return engine
