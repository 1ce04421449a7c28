"""The bad input matrix: whatever a user points koordinator at, it answers with one line.

Every case runs `koordinator.cli.main([...])` in-process and checks the same promise:

* exactly one line on stderr, starting "koordinator: " (or "koordinator BEFEHL: " for a
  usage mistake argparse finds), naming what is wrong and where
  (the file, the measure, the option);
* exit code 2 and nothing on stdout;
* every file in the test's folder byte-identical afterwards, and no file added or removed
  (databases are opened once before the "before" picture: opening switches the journal to
  WAL, which rewrites two header bytes of a never-opened file).

Running as root, `os.access` says every file is writable and every folder accepts new
files, so a read-only database and a read-only folder are simulated there: the
writability check is monkeypatched, and creating the temporary file raises EACCES, as the
operating system would.  A full disk is simulated by an `fsync` / `write` that raises
ENOSPC.  Where the tests run as an ordinary user, the read-only cases use real permissions
as well.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import socket
import sqlite3
import stat
import tempfile
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from koordinator.cli import main
from koordinator.core.errors import DatabaseError, SnapshotError
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import load, prepare_export
from koordinator.core.store.models import SCHEMA_VERSION
from koordinator.core.store.sample import fill_fields_only
from koordinator.core.store.sqlite_store import (
    DatabaseTarget,
    create_database,
    open_database,
    schema_sql,
)

# --- the "before" and "after" picture ---------------------------------------------------------


def folder_state(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) below `folder`, by relative path; a link
    by its target, a FIFO, device or socket by its kind and inode (never read: a FIFO
    would wait for a writer), so that replacing one by a regular file shows."""
    state: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        status = path.lstat()
        if stat.S_ISLNK(status.st_mode):
            state[key] = f"-> {path.readlink()}".encode()
        elif stat.S_ISDIR(status.st_mode):
            state[key] = None
        elif stat.S_ISREG(status.st_mode):
            state[key] = path.read_bytes()
        else:
            state[key] = f"<{stat.S_IFMT(status.st_mode):o} {status.st_ino}>".encode()
    return state


def without_new_companions(
    after: dict[str, bytes | None], before: dict[str, bytes | None]
) -> dict[str, bytes | None]:
    """`after` without the WAL companions SQLite may leave beside a WAL database when only
    the read-only open check touched it: an empty "-wal" and the "-shm" index.  They hold no
    data; the next normal close removes them.  Anything else new or changed stays."""
    return {
        key: value
        for key, value in after.items()
        if key in before
        or not (key.endswith("-shm") or (key.endswith("-wal") and value == b""))
        or key.removesuffix("-shm").removesuffix("-wal") not in before
    }


def opened_once(path: Path) -> Path:
    """Use a database once the way koordinator does, so that its journal is WAL."""
    database = open_database(DatabaseTarget(path))
    try:
        Catalogue(database, author="anna").fields()
    finally:
        database.close()
    return path


def simulate_read_only(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """Make `paths` read-only: for real by permissions, and (as root, who may write anyway)
    by the checks koordinator asks: `os.access` and creating a temporary file there."""
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() != 0:
        return
    refused = {path.resolve() for path in paths}
    real_access, real_mkstemp = os.access, tempfile.mkstemp

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if mode & os.W_OK and Path(path).resolve() in refused:
            return False
        return real_access(path, mode, *args, **kwargs)

    def mkstemp(*args: Any, dir: Any = None, **kwargs: Any) -> tuple[int, str]:
        if dir is not None and Path(dir).resolve() in refused:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def disk_full_at_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


def disk_full_while_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first write puts half of the text on disk, then the disk is full."""
    real_fdopen = os.fdopen

    class HalfWriter(io.TextIOWrapper):
        def write(self, text: str) -> int:
            super().write(text[: len(text) // 2])
            super().flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fdopen(descriptor: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" not in mode:
            return real_fdopen(descriptor, mode, *args, **kwargs)
        raw = real_fdopen(descriptor, "wb")
        return HalfWriter(raw, encoding=kwargs.get("encoding", "utf-8"), newline="\n")

    monkeypatch.setattr(os, "fdopen", fdopen)


# --- the material -------------------------------------------------------------------------------

PLACEHOLDER = "PLATZHALTER-TITEL"
_exports: dict[str, str] = {}


def _export(path: Path, author: str) -> str:
    database = open_database(DatabaseTarget(path))
    try:
        return prepare_export(database, author=author).text
    finally:
        database.close()


def sample_snapshot(sample: Path) -> str:
    """A valid snapshot of the sample catalogue (made once)."""
    if "sample" not in _exports:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "quelle.db"
            shutil.copyfile(sample, path)
            _exports["sample"] = _export(path, "anna")
    return _exports["sample"]


def new_measure_snapshot() -> str:
    """A valid snapshot with one new measure titled PLACEHOLDER (everywhere it appears:
    state and history), to be imported into a database with only the fields of action."""
    if "new" not in _exports:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "neu.db"
            create_database(path, fill=fill_fields_only)
            database = open_database(DatabaseTarget(path))
            try:
                Catalogue(database, author="anna").create_measure(1, PLACEHOLDER)
            finally:
                database.close()
            _exports["new"] = _export(path, "anna")
    return _exports["new"]


@dataclass
class World:
    """The folder a case works in; databases and snapshots are made there on demand."""

    folder: Path
    sample: Path  # the built sample catalogue (never opened; copies are)

    @property
    def db(self) -> Path:
        """A valid koordinator database with the sample catalogue, opened once."""
        path = self.folder / "katalog.db"
        if not path.exists():
            shutil.copyfile(self.sample, path)
            opened_once(path)
        return path

    @property
    def empty_db(self) -> Path:
        """A valid koordinator database with only the four fields of action, opened once."""
        path = self.folder / "leer.db"
        if not path.exists():
            create_database(path, fill=fill_fields_only)
            opened_once(path)
        return path

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def snapshot(self, name: str, change: Callable[[str], str] = lambda text: text) -> Path:
        return self.file(name, change(sample_snapshot(self.sample)))

    def new_measure_titled(self, name: str, title: str) -> Path:
        """A consistent snapshot whose new measure has `title` (TOML-escaped here)."""
        escaped = title.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00")
        return self.file(name, new_measure_snapshot().replace(PLACEHOLDER, escaped))


# A case: builds what it needs in the world, returns the arguments and the words the one
# line must contain (what is wrong, and where); a tuple of words there: one of them.
Words = tuple[str | tuple[str, ...], ...]
Case = Callable[[World, pytest.MonkeyPatch], tuple[list[str], Words]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = function
        return function

    return register


def _replace_once(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return change


# --- --db: what the database argument points at ------------------------------------------------


@case("db is a text file")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.file("notizen.db", "Maßnahme;Status\n1.1;Etabliert\n")
    return ["--db", str(path), "list"], (str(path), "keine SQLite-Datenbank")


@case("db is an empty file")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.file("leer.db", b"")
    return ["--db", str(path), "status", "1.1", "delayed"], (str(path), "leere Datei")


@case("db is a directory")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "ordner.db"
    path.mkdir()
    w.file("ordner.db/inhalt.txt", "nicht löschen")
    return ["--db", str(path), "list"], (str(path), "Ordner")


@case("db is a foreign SQLite database")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "kunden.db"
    connection = sqlite3.connect(path)
    connection.executescript("CREATE TABLE kunde (id INTEGER PRIMARY KEY, name TEXT);")
    connection.close()
    return ["--db", str(path), "status", "1.1", "delayed"], (str(path), "keine koordinator")


@case("db has a newer schema version")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "neuer.db"
    connection = sqlite3.connect(path)
    connection.executescript(schema_sql())
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    return ["--db", str(path), "list"], (str(path), f"Schema-Version {SCHEMA_VERSION + 1}")


@case("db in a missing folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "fehlt" / "k.db"
    return ["--db", str(path), "list"], (str(path), "existiert nicht")


@case("db file missing (a typo)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "katalgo.db"
    return ["--db", str(path), "status", "1.1", "delayed"], (str(path), "nicht gefunden")


@case("db is a FIFO: refused at once, not read")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "rohr.db"
    os.mkfifo(path)
    return ["--db", str(path), "list"], (str(path), "FIFO")


@case("db is a character device")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "null.db"
    os.mknod(path, 0o666 | stat.S_IFCHR, Path("/dev/null").stat().st_rdev)
    return ["--db", str(path), "status", "1.1", "delayed"], (str(path), "Gerät")


@case("db is a socket")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "s.db"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()
    return ["--db", str(path), "show", "1.1"], (str(path), "Socket")


@case("db is a link to a FIFO (the UI)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    fifo = w.folder / "rohr"
    os.mkfifo(fifo)
    path = w.folder / "katalog-link.db"
    path.symlink_to(fifo)
    return ["--db", str(path)], (str(path), "FIFO")


@case("db below a file, not a folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.file("notiz.txt", "kein Ordner") / "k.db"
    return ["--db", str(path), "list"], (str(path), "kein Ordner")


@case("db with a name too long for the file system")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / ("k" * 300 + ".db")
    return ["--db", str(path), "history"], ("k" * 50, "zu lang")


@case("db path with a NUL character")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", f"{w.folder}/k\x00.db", "list"], ("Nullzeichen",)


@case("db with a table rebuilt without a column")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    connection = sqlite3.connect(w.db)
    connection.executescript("PRAGMA foreign_keys = OFF; ALTER TABLE milestone DROP COLUMN note;")
    connection.close()
    return ["--db", str(w.db), "show", "1.6"], (str(w.db), "beschädigt", "milestone", "note")


@case("init beside a database in use is refused (its -shm is locked)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "r.db"
    mp.setattr("koordinator.core.store.sqlite_store.user_of", lambda _path: 4242)
    return ["init", "--db", str(path)], (str(path), "benutzt", "4242")


@case("db is read-only: a change is refused")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    simulate_read_only(mp, w.db)
    return ["--db", str(w.db), "status", "1.2", "delayed"], (str(w.db), "schreibgeschützt")


@case("db is corrupt: valid header, garbage after it")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    data = w.db.read_bytes()
    path = w.file("kaputt.db", data[:16] + bytes(range(256)) * ((len(data) - 16) // 256))
    w.db.unlink()
    return ["--db", str(path), "list"], (str(path), "beschädigt")


def _damaged_pages(w: World, name: str) -> Path:
    """The sample (WAL, as in use) with every page from the 20th on overwritten."""
    data = bytearray(w.db.read_bytes())
    for start in range(20 * 4096, len(data), 4096):
        data[start : start + 4096] = bytes((start // 4096 + i) % 251 for i in range(4096))
    w.db.unlink()
    return w.file(name, bytes(data))


@case("db is corrupt beyond the first pages: reading")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = _damaged_pages(w, "beschaedigt.db")
    return ["--db", str(path), "list"], (str(path), "beschädigt")


@case("db is corrupt beyond the first pages: a change")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = _damaged_pages(w, "beschaedigt.db")
    return ["--db", str(path), "status", "4.1", "on_schedule"], (str(path), "beschädigt")


@case("db is truncated")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    data = w.db.read_bytes()
    w.db.unlink()
    path = w.file("halb.db", data[: len(data) // 2])
    return ["--db", str(path), "history"], (str(path), "(database disk image is malformed)")


@case("db URL of another database system")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    url = "postgresql://fb12@rathaus/koordinator"
    return ["--db", url, "list"], (url, "SQLite")


# --- a damaged database: every command ---------------------------------------------------------
#
# A cell the schema's checks would refuse (changed with the checks off, as a flipped bit or a
# hand edit would), or a page SQLite cannot read: every command that reads the damage says
# "beschädigt" and names the file, and a change is not written.  The damage is in measure 1.3
# (delayed; its move to "delayed" carries the delay in its details) and each command below
# reads it: a list reads the measures, not their history, so list has no case for the
# history's damage.

_DAMAGED = "1.3"


def _changed_snapshot(sample: Path) -> str:
    """A valid snapshot of the sample with one event more for 1.3 (back on schedule): its
    import replays 1.3's history and writes 1.3."""
    if "changed" not in _exports:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "geaendert.db"
            shutil.copyfile(sample, path)
            database = open_database(DatabaseTarget(path))
            try:
                Catalogue(database, author="bernd").change_status(_DAMAGED, "on_schedule")
            finally:
                database.close()
            _exports["changed"] = _export(path, "bernd")
    return _exports["changed"]


def _used_sample(w: World, name: str) -> Path:
    path = w.folder / name
    shutil.copyfile(w.sample, path)
    return opened_once(path)


def _damaged_db(w: World, *statements: str) -> Path:
    """The sample, used once, with `statements` run past the schema's checks."""
    path = _used_sample(w, "beschaedigt.db")
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA ignore_check_constraints = ON")
        with connection:
            for statement in statements:
                assert connection.execute(statement).rowcount >= 1, statement
    finally:
        connection.close()
    return path


def _flipped_bit(w: World, table: str) -> Path:
    """The sample, used once, with one bit flipped in the first page of `table`: its page
    type, which SQLite then cannot read ("malformed")."""
    path = _used_sample(w, "beschaedigt.db")
    connection = sqlite3.connect(path)
    try:
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    finally:
        connection.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def _of_measure(number: str, condition: str) -> str:
    return f"measure_id = (SELECT id FROM measure WHERE number = '{number}') AND {condition}"


_DAMAGES: dict[str, Callable[[World], Path]] = {
    "a bit flipped in the measures' page": lambda w: _flipped_bit(w, "measure"),
    "a measure with an unknown status code": lambda w: _damaged_db(
        w, f"UPDATE measure SET status = 'fertig' WHERE number = '{_DAMAGED}'"
    ),
    "broken JSON in an event's details": lambda w: _damaged_db(
        w,
        'UPDATE history_event SET details = \'{"delay": {"cause"\' WHERE '
        + _of_measure(_DAMAGED, "kind = 'status_changed'"),
    ),
    "a renamed key in an event's details": lambda w: _damaged_db(
        w,
        "UPDATE history_event SET details = replace(details, '\"cause\"', '\"ursache\"') WHERE "
        + _of_measure(_DAMAGED, "kind = 'status_changed'"),
    ),
}
_COMMANDS: dict[str, Callable[[World], list[str]]] = {
    "list": lambda w: ["list"],
    "show": lambda w: ["show", _DAMAGED],
    "status": lambda w: ["status", _DAMAGED, "on_schedule", "--note", "weiter"],
    "milestone": lambda w: ["milestone", _DAMAGED, "Pilotbetrieb", "--due", "2022"],
    "delay": lambda w: ["delay", _DAMAGED, "--since", "2021"],
    "delay --resolve": lambda w: ["delay", _DAMAGED, "--resolve"],
    "history": lambda w: ["history", _DAMAGED],
    "report": lambda w: ["report"],
    "report --since": lambda w: ["report", "--since", str(w.snapshot("stand.toml"))],
    "export": lambda w: ["export"],
    "export -o": lambda w: ["export", "-o", str(w.folder / "stand.toml")],
    "import": lambda w: ["import", str(w.file("neu.toml", _changed_snapshot(w.sample)))],
    "import --dry-run": lambda w: [
        "import",
        "--dry-run",
        str(w.file("neu.toml", _changed_snapshot(w.sample))),
    ],
    "diff": lambda w: ["diff", str(w.snapshot("stand.toml"))],
}
# What a command does not read: a list and the report read no history (the report only
# the moves into a final status, below); a diff, the report's changes and a list read no
# event's details.
_NOT_READ = {
    ("broken JSON in an event's details", "list"),
    ("broken JSON in an event's details", "report"),
    ("a renamed key in an event's details", "list"),
    ("a renamed key in an event's details", "report"),
    ("a renamed key in an event's details", "report --since"),
    ("a renamed key in an event's details", "diff"),
}


def _damage_case(damage: Callable[[World], Path], command: Callable[[World], list[str]]) -> Case:
    def damaged(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
        path = damage(w)
        return ["--db", str(path), *command(w)], (str(path), "beschädigt")

    return damaged


for _damage_name, _damage in _DAMAGES.items():
    for _command_name, _command in _COMMANDS.items():
        if (_damage_name, _command_name) not in _NOT_READ:
            case(f"damaged db, {_damage_name}: {_command_name}")(_damage_case(_damage, _command))

_OTHER_DAMAGES: dict[str, tuple[Callable[[World], Path], tuple[str, ...]]] = {
    # The history's own page: what reads the history.
    "a bit flipped in the history's page": (
        lambda w: _flipped_bit(w, "history_event"),
        ("show", "history", "export", "import --dry-run", "diff", "report --since"),
    ),
    # The history reads the events' statuses, not the measure's.
    "an event with an unknown status code": (
        lambda w: _damaged_db(
            w,
            "UPDATE history_event SET to_status = 'fertig' WHERE "
            + _of_measure(_DAMAGED, "kind = 'status_changed'"),
        ),
        ("history", "show", "export", "import", "status"),
    ),
    # The report reads the details of the move into a final status (1.8: handed over).
    "broken JSON in a final move's details": (
        lambda w: _damaged_db(
            w,
            "UPDATE history_event SET details = '{\"receiving_unit\": ' WHERE "
            + _of_measure("1.8", "kind = 'status_changed'"),
        ),
        ("report",),
    ),
    # What only a replay of the history reads: the export's checks replay every measure.
    "a renamed key in a creation's details": (
        lambda w: _damaged_db(
            w,
            "UPDATE history_event SET details = replace(details, '\"title\"', '\"titel\"') "
            "WHERE " + _of_measure(_DAMAGED, "kind = 'measure_created'"),
        ),
        ("export",),
    ),
    # Not UTF-8: a title whose bytes a flipped bit made invalid.
    "a title that is not UTF-8": (
        lambda w: _damaged_db(
            w, f"UPDATE measure SET title = CAST(x'4675df' AS TEXT) WHERE number = '{_DAMAGED}'"
        ),
        ("list", "show"),
    ),
}
for _damage_name, (_damage, _command_names) in _OTHER_DAMAGES.items():
    for _command_name in _command_names:
        case(f"damaged db, {_damage_name}: {_command_name}")(
            _damage_case(_damage, _COMMANDS[_command_name])
        )


def _rebuilt_measure_table(w: World, columns: str, select: str) -> Path:
    """The sample, used once, with its measure table rebuilt with other columns."""
    path = _used_sample(w, "umgebaut.db")
    connection = sqlite3.connect(path)
    try:
        connection.executescript(
            "PRAGMA foreign_keys = OFF; BEGIN;"
            f" CREATE TABLE measure_new ({columns});"
            f" INSERT INTO measure_new SELECT {select} FROM measure;"
            " DROP TABLE measure; ALTER TABLE measure_new RENAME TO measure; COMMIT;"
        )
    finally:
        connection.close()
    return path


_MEASURE_COLUMNS = (
    "id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, field_code INTEGER NOT NULL,"
    " sequence INTEGER NOT NULL, title TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '',"
    " origin TEXT NOT NULL, origin_date TEXT NOT NULL, status TEXT NOT NULL,"
    " revision INTEGER NOT NULL DEFAULT 1, updated_at TEXT NOT NULL"
)
_MEASURE_SELECT = (
    "id, number, field_code, sequence, title, unit, origin, origin_date, status, revision,"
    " updated_at"
)
_NO_NOTE = (_MEASURE_COLUMNS, _MEASURE_SELECT)
_EXTRA_COLUMN = (
    _MEASURE_COLUMNS + ", note TEXT NOT NULL DEFAULT '', budget INTEGER NOT NULL",
    _MEASURE_SELECT + ", note, 1000",
)
_OTHER_COLUMNS = ("beschädigt", "keine koordinator-Datenbank")


@case("db: the measure table without its note column: list")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = _rebuilt_measure_table(w, *_NO_NOTE)
    return ["--db", str(path), "list"], (str(path), _OTHER_COLUMNS)


@case("db: the measure table without its note column: status")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = _rebuilt_measure_table(w, *_NO_NOTE)
    return ["--db", str(path), "status", "1.2", "delayed"], (str(path), _OTHER_COLUMNS)


@case("db: the measure table with an extra NOT NULL column: status")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = _rebuilt_measure_table(w, *_EXTRA_COLUMN)
    return ["--db", str(path), "status", "1.2", "delayed"], (str(path), _OTHER_COLUMNS)


@case("db: the measure table with an extra NOT NULL column: import")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = _rebuilt_measure_table(w, *_EXTRA_COLUMN)
    snapshot = w.file("neu.toml", _changed_snapshot(w.sample))
    return ["--db", str(path), "import", str(snapshot)], (str(path), _OTHER_COLUMNS)


# --- snapshots ---------------------------------------------------------------------------------


@case("snapshot is not TOML")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.file("brief.toml", "Sehr geehrte Damen und Herren,\nanbei der Stand.\n")
    return ["--db", str(w.db), "import", str(path)], (f"{path}:1:", "kein gültiges TOML")


@case("snapshot is truncated")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("halb.toml", lambda text: text[: len(text) // 2])
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "TOML")


@case("snapshot is truncated at a measure")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("gekuerzt.toml", lambda text: text[: text.index("[[measures]]", 30000)])
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "passt nicht")


@case("snapshot of another format (TOML)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.file("pyproject.toml", '[project]\nname = "koordinator"\nversion = "0.1.0"\n')
    return ["--db", str(w.db), "import", str(path)], (str(path), "kein koordinator-Snapshot")


@case("snapshot of another format (JSON)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.file("liste.json", '{\n  "total": 49,\n  "measures": []\n}\n')
    return ["--db", str(w.db), "import", str(path)], (f"{path}:1:", "kein gültiges TOML")


@case("snapshot is not UTF-8")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    text = sample_snapshot(w.sample)
    path = w.file("latin1.toml", text.encode("utf-8").replace("ü".encode(), b"\xfc", 1))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "kein UTF-8")


@case("snapshot of a newer version")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("neu.toml", _replace_once("\nversion = 2\n", "\nversion = 3\n"))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:2:", "Snapshot-Version 3")


@case("snapshot with an unknown status")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("status.toml", _replace_once('status = "established"', 'status = "fertig"'))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "Maßnahme 1.1", "„fertig“")


@case("snapshot with a duplicate measure number")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    def doubled(text: str) -> str:
        start = text.index("[[measures]]")
        return text + "\n" + text[start : text.index("[[measures]]", start + 1)]

    path = w.snapshot("doppelt.toml", doubled)
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "Nummer 1.1 kommt schon")


@case("snapshot with a bad date")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("datum.toml", _replace_once('done_on = "2019-10"', 'done_on = "2019-13"'))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "„2019-13“ ist kein Datum")


@case("snapshot with a bad timestamp")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("zeit.toml", _replace_once('exported_at = "', 'exported_at = "gestern '))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:3:", "kein Zeitstempel")


@case("snapshot with a measure numbered 1.1000 (sequences stay below 1000)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    text = new_measure_snapshot().replace('number = "1.1"', 'number = "1.1000"')
    path = w.file("tausend.toml", text)
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "„1.1000“ ist zu groß")


@case("snapshot with an event dated 2999 (more than a day ahead of this clock)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    future = r'\1 = "2999-01-01T00:00:00.000000Z"'
    text = re.sub(r'(occurred_at|updated_at) = "[^"]*"', future, new_measure_snapshot())
    path = w.file("zukunft.toml", text)
    argv = ["--db", str(w.empty_db), "import", str(path)]
    return argv, (f"{path}:", "Maßnahme 1.1", "2999", "mehr als 24 Stunden")


@case("snapshot with a wrong type")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("typ.toml", _replace_once("revision = 4", 'revision = "vier"'))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "erwartet eine ganze Zahl")


@case("snapshot with a table where text belongs")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("tabelle.toml", _replace_once('unit = "SHM²"', "unit = { name = 1 }"))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "erwartet Text")


@case("snapshot with a 1 MB title")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.new_measure_titled("lang.toml", "Portal " * 150_000)
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "Text zu lang")


@case("snapshot with a NUL character")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.new_measure_titled("nul.toml", "Bürger\x00portal")
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "NUL")


@case("snapshot with an ESC sequence")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.new_measure_titled("esc.toml", "\x1b[2J\x1b[31mBürgerportal")
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "U+001B")


@case("snapshot with a C1 control character")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.new_measure_titled("csi.toml", "Bürger\x9b2Jportal")
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "U+009B")


@case("snapshot missing")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "gibtsnicht.toml"
    return ["--db", str(w.db), "import", str(path)], (str(path), "nicht gefunden")


@case("snapshot is a directory")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.folder / "stand.toml"
    path.mkdir()
    return ["--db", str(w.db), "import", str(path)], (str(path), "Ordner")


@case("import: a good snapshot and a bad one (all or nothing)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    good = w.new_measure_titled("gut.toml", "Neues Portal")
    bad = w.snapshot("schlecht.toml", _replace_once("revision = 4", "revision = 0"))
    argv = ["--db", str(w.empty_db), "import", str(good), str(bad)]
    return argv, (f"{bad}:", "revision")


@case("import --dry-run of a damaged snapshot")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("probe.toml", _replace_once("total = 49", "total = 50"))
    return ["--db", str(w.db), "import", "--dry-run", str(path)], (f"{path}:", "summary.total")


@case("diff of two files, one damaged")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    old = w.snapshot("alt.toml")
    new = w.snapshot("neu.toml", lambda text: text.replace("[[fields]]", "[[fields]", 1))
    return ["diff", str(old), str(new)], (f"{new}:", "TOML")


@case("report --since a damaged snapshot")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.file("stand.toml", "format = 'koordinator-snapshot'\nversion = 'eins'\n")
    return ["--db", str(w.db), "report", "--since", str(path)], (f"{path}:2:", "ganze Zahl")


# --- user text: control characters and bidi -------------------------------------------------
# Single-line texts (title, unit, author, cause, reason, milestone title) refuse line breaks
# and the bidirectional controls, notes the bidirectional controls; a snapshot is held to
# the same rule.  What the refusal quotes is shown escaped.


@case("status: a unit with a right-to-left override")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "status", "1.2", "handed_over", "--unit", "FB\u202e11"]
    return argv, ("Maßnahme 1.2", "übernehmende Stelle", "U+202E")


@case("milestone: a title with a carriage return")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "milestone", "1.6", "Pilot\rbetrieb", "--due", "2021"]
    return argv, ("Maßnahme 1.6", "Titel", "U+000D", "nur eine Zeile")


@case("milestone: a title with a line feed")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "milestone", "1.6", "Pilot\n2.2 Etabliert"]
    return argv, ("Maßnahme 1.6", "Titel", "U+000A")


@case("--as: an author with a bidi override")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--as", "anna\u202ekcab", "--db", str(w.db), "status", "1.2", "delayed"]
    return argv, ("Maßnahme 1.2", "Autor", "U+202E")


@case("status: a reason with a line feed")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "status", "1.2", "dropped", "--reason", "zu teuer\n1.3 Verworfen"]
    return argv, ("Maßnahme 1.2", "Begründung", "U+000A")


@case("delay: a cause with a left-to-right isolate")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "delay", "1.2", "--cause", "Personal\u2066mangel"]
    return argv, ("Maßnahme 1.2", "Ursache", "U+2066")


@case("status: a note with a bidi override")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "status", "1.2", "delayed", "--note", "gut\u202eschlecht"]
    return argv, ("Maßnahme 1.2", "Notiz", "U+202E")


@case("status: a note with a line separator")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "status", "1.2", "delayed", "--note", "Zeile 1\u2028Zeile 2"]
    return argv, ("Maßnahme 1.2", "Notiz", "U+2028")


@case("milestone --complete: a looked-up title with a bidi override is quoted escaped")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "milestone", "1.9", "Pilot\u202e\x1b[2J", "--complete"]
    return argv, ("Maßnahme 1.9", "„Pilot\\u202e\\x1b[2J“", "nicht gefunden")


@case("snapshot: a measure title with a right-to-left override")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.new_measure_titled("bidi.toml", "Bürger\u202elatrop")
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "„title“", "U+202E")


@case("snapshot: a measure title with a line feed")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.new_measure_titled("zeile.toml", "Bürgerportal\n1.2 Etabliert")
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "„title“", "U+000A")


@case("snapshot: an author with a pop directional isolate")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    path = w.snapshot("autor.toml", _replace_once('author = "anna"', 'author = "anna\\u2069"'))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "„author“", "U+2069")


# --- snapshots that are no file, or too long or too deep to read -----------------------------

# Not a file: read, a FIFO waits for a writer and a device never ends.  Refused at once.


@case("import: a FIFO")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / "stand.toml"
    os.mkfifo(path)
    return ["--db", str(w.db), "import", str(path)], (str(path), "FIFO")


@case("import --dry-run: a FIFO behind a symbolic link")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    fifo = w.folder / "rohr"
    os.mkfifo(fifo)
    path = w.folder / "stand.toml"
    path.symlink_to(fifo)
    return ["--db", str(w.db), "import", "--dry-run", str(path)], (str(path), "FIFO")


@case("diff: a FIFO as the older snapshot")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / "alt.toml"
    os.mkfifo(path)
    return ["diff", str(path), str(w.snapshot("neu.toml"))], (str(path), "FIFO")


@case("diff against the database: a FIFO")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / "alt.toml"
    os.mkfifo(path)
    return ["--db", str(w.db), "diff", str(path)], (str(path), "FIFO")


@case("report --since: a FIFO")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / "stand.toml"
    os.mkfifo(path)
    return ["--db", str(w.db), "report", "--since", str(path)], (str(path), "FIFO")


@case("import: a character device that never ends (/dev/zero)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["--db", str(w.db), "import", "/dev/zero"], ("/dev/zero", "Gerät")


@case("diff: a character device (/dev/urandom)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["diff", str(w.snapshot("alt.toml")), "/dev/urandom"], ("/dev/urandom", "Gerät")


@case("import: /dev/null")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["--db", str(w.db), "import", "/dev/null"], ("/dev/null", "Gerät")


@case("import: a socket")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / "stand.toml"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))  # the socket file stays when the socket is closed
    return ["--db", str(w.db), "import", str(path)], (str(path), "Socket")


@case("diff: a directory as the newer snapshot")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / "neu.toml"
    path.mkdir()
    return ["diff", str(w.snapshot("alt.toml")), str(path)], (str(path), "Ordner")


# Nested thousands of levels deep, or a 10 MB string: refused quickly, with the line.

_HEAD = 'format = "koordinator-snapshot"\nversion = 1\n'


@case("snapshot nested 10,000 arrays deep")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.file("tief.toml", _HEAD + "a = " + "[" * 10_000 + "]" * 10_000 + "\n")
    return ["--db", str(w.db), "import", str(path)], (f"{path}:3:", "verschachtelt")


@case("snapshot nested 10,000 inline tables deep")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.file("tief.toml", _HEAD + "a = " + "{ a = " * 10_000 + "1" + " }" * 10_000 + "\n")
    return ["--db", str(w.db), "import", str(path)], (f"{path}:3:", "verschachtelt")


@case("snapshot nested 100,000 arrays deep, one a line")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    text = _HEAD + "# Stand\na = [\n" + "[\n" * 100_000 + "]\n" * 100_001
    path = w.file("tief.toml", text)
    return ["--db", str(w.db), "import", "--dry-run", str(path)], (f"{path}:", "verschachtelt")


@case("diff: a snapshot nested in its events' details")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    nested = "details = " + "{ a = [" * 5_000 + "]}" * 5_000
    path = w.snapshot("tief.toml", _replace_once('kind = "measure_created"', nested))
    return ["diff", str(w.snapshot("alt.toml")), str(path)], (f"{path}:", "verschachtelt")


@case("snapshot with a 10 MB title")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.new_measure_titled("lang.toml", "x" * 10_000_000)
    return ["--db", str(w.empty_db), "import", str(path)], (f"{path}:", "Text zu lang")


@case("snapshot with a 10 MB literal string")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.snapshot("lang.toml", _replace_once('unit = "SHM²"', "unit = '" + "x" * 10**7 + "'"))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "Text zu lang")


@case("snapshot with a 10 MB key")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.file("lang.toml", _HEAD + '"' + "k" * 10_000_000 + '" = 1\n')
    return ["--db", str(w.db), "import", str(path)], (f"{path}:3:", "Text zu lang")


@case("snapshot with a 10 MB multi-line string")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    text = '"""\n' + ("x" * 99 + "\n") * 100_000 + '"""'
    path = w.snapshot("lang.toml", _replace_once('unit = "SHM²"', "unit = " + text))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "Text zu lang")


@case("report --since: a snapshot with a 10 MB title")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.new_measure_titled("lang.toml", "Portal " * 1_500_000)
    return ["--db", str(w.db), "report", "--since", str(path)], (f"{path}:", "Text zu lang")


@case("snapshot with a number of 5,000 digits")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.snapshot("zahl.toml", _replace_once("revision = 4", "revision = " + "4" * 5000))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "Ziffern")


@case("snapshot with a revision too large for SQLite")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.snapshot("zahl.toml", _replace_once("revision = 4", f"revision = {2**64}"))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "revision")


@case("snapshot with a field code too large for SQLite")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.snapshot("zahl.toml", _replace_once("code = 1\n", f"code = {2**70}\n"))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:", "code")


@case("snapshot with a table header of 10,000 keys")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.file("tief.toml", _HEAD + "[" + ".".join(["a"] * 10_000) + "]\n")
    return ["--db", str(w.db), "import", str(path)], (str(path), "unbekannter Schlüssel")


# --- writing files: export and report ---------------------------------------------------------


def _old_file(w: World, name: str) -> Path:
    """An older file of the same name that must survive a failed write intact."""
    return w.file(name, "# der Stand vom letzten Mal\n")


@case("export into a read-only folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    folder = w.folder / "abgabe"
    folder.mkdir()
    target = _old_file(w, "abgabe/stand.toml")
    argv = ["--db", str(w.db), "export", "-o", str(target)]
    simulate_read_only(mp, folder)
    return argv, (str(target), "keine Berechtigung")


@case("export below a file (not a folder)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    parent = w.file("bericht.txt", "ich bin eine Datei")
    target = parent / "stand.toml"
    return ["--db", str(w.db), "export", "-o", str(target)], (str(target), "existiert nicht")


@case("export onto a directory")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = w.folder / "stand.toml"
    target.mkdir()
    return ["--db", str(w.db), "export", "-o", str(target)], (str(target), "Ordner")


@case("export to a full disk (fsync fails)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = _old_file(w, "stand.toml")
    argv = ["--db", str(w.db), "export", "-o", str(target)]
    disk_full_at_fsync(mp)
    return argv, (str(target), "Datenträger voll")


@case("export to a full disk (half written)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = _old_file(w, "stand.toml")
    argv = ["--db", str(w.db), "export", "-o", str(target)]
    disk_full_while_writing(mp)
    return argv, (str(target), "Datenträger voll")


@case("report to a full disk")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = _old_file(w, "bericht.md")
    argv = ["--db", str(w.db), "report", "-o", str(target)]
    disk_full_at_fsync(mp)
    return argv, (str(target), "Datenträger voll")


def _outside(w: World, name: str) -> Path:
    """A place beside the case's folder, for what the before/after picture cannot read (a
    FIFO would block it, a dangling link or a loop has no bytes).  A writer that replaced
    such a node would still be caught: it would not fail, so the exit code would be 0."""
    folder = w.folder.parent / "aussen"
    folder.mkdir(exist_ok=True)
    return folder / name


def _fifo(w: World) -> Path:
    fifo = _outside(w, "rohr")
    os.mkfifo(fifo)
    return fifo


@case("export to a FIFO nobody reads")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    fifo = _fifo(w)
    return ["--db", str(w.db), "export", "-o", str(fifo)], (str(fifo), "niemand liest")


@case("report to a FIFO nobody reads")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    fifo = _fifo(w)
    return ["--db", str(w.db), "report", "-o", str(fifo)], (str(fifo), "Pipe (FIFO)")


@case("export to a socket")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    import stat

    socket = _outside(w, "sock")
    os.mknod(socket, 0o600 | stat.S_IFSOCK)  # a socket's node, without a server behind it
    return ["--db", str(w.db), "export", "-o", str(socket)], (str(socket), "Socket")


@case("report onto a directory")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = w.folder / "bericht.md"
    target.mkdir()
    return ["--db", str(w.db), "report", "-o", str(target)], (str(target), "Ordner")


@case("export onto a symlink to a directory")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    (w.folder / "ablage").mkdir()
    link = w.folder / "stand.toml"
    link.symlink_to("ablage")
    return ["--db", str(w.db), "export", "-o", str(link)], (str(link), "ist ein Ordner")


@case("export to a symlink loop")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    first, second = _outside(w, "a.toml"), _outside(w, "b.toml")
    first.symlink_to(second.name)
    second.symlink_to(first.name)
    argv = ["--db", str(w.db), "export", "-o", str(first)]
    return argv, (str(first), "zu viele Verknüpfungen")


@case("report to a symlink to itself")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    link = _outside(w, "bericht.md")
    link.symlink_to(link.name)
    argv = ["--db", str(w.db), "report", "-o", str(link)]
    return argv, (str(link), "zu viele Verknüpfungen")


@case("export below a symlink loop")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    loop = _outside(w, "schleife")
    loop.symlink_to(loop.name)
    target = loop / "stand.toml"
    argv = ["--db", str(w.db), "export", "-o", str(target)]
    return argv, (str(target), "zu viele Verknüpfungen")


@case("export into a missing folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = w.folder / "fehlt" / "stand.toml"
    argv = ["--db", str(w.db), "export", "-o", str(target)]
    return argv, (str(target), f"Ordner {w.folder / 'fehlt'} existiert nicht")


@case("report into a missing folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = w.folder / "fehlt" / "tiefer" / "bericht.md"
    return ["--db", str(w.db), "report", "-o", str(target)], (str(target), "existiert nicht")


@case("export through a dangling symlink into a missing folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    link = _outside(w, "stand.toml")
    link.symlink_to("fehlt/stand.toml")
    argv = ["--db", str(w.db), "export", "-o", str(link)]
    return argv, (str(link), "Verknüpfung auf", "existiert nicht")


@case("report through a dangling symlink into a missing folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    link = _outside(w, "bericht.md")
    link.symlink_to("/fehlt-ganz-sicher/bericht.md")
    argv = ["--db", str(w.db), "report", "-o", str(link)]
    return argv, (str(link), "Ordner /fehlt-ganz-sicher existiert nicht")


@case("export with a 300-character file name")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = w.folder / ("s" * 295 + ".toml")
    argv = ["--db", str(w.db), "export", "-o", str(target)]
    return argv, (str(target)[:200], "Name zu lang")


@case("report with a 300-character file name")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = w.folder / ("b" * 297 + ".md")
    argv = ["--db", str(w.db), "report", "-o", str(target)]
    return argv, (str(w.folder), "Name zu lang")


@case("export to a name with a NUL byte")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = f"{w.folder}/stand\x00.toml"
    argv = ["--db", str(w.db), "export", "-o", target]
    return argv, (f"{w.folder}/stand\\x00.toml", "ungültiger Name")


@case("export onto a read-only file")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = _old_file(w, "stand.toml")
    argv = ["--db", str(w.db), "export", "-o", str(target)]
    simulate_read_only(mp, target)
    return argv, (str(target), "keine Berechtigung")


@case("report into a read-only folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    folder = w.folder / "abgabe"
    folder.mkdir()
    target = folder / "bericht.md"
    argv = ["--db", str(w.db), "report", "-o", str(target)]
    simulate_read_only(mp, folder)
    return argv, (str(target), "keine Berechtigung")


@case("export through a symlink into a read-only folder")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    folder = w.folder / "abgabe"
    folder.mkdir()
    target = _old_file(w, "abgabe/stand.toml")
    link = w.folder / "stand.toml"
    link.symlink_to("abgabe/stand.toml")
    argv = ["--db", str(w.db), "export", "-o", str(link)]
    simulate_read_only(mp, folder)
    return argv, (f"{link} (Verknüpfung auf {target})", "keine Berechtigung")


@case("report onto a hard-linked file on a full disk")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = _old_file(w, "bericht.md")
    os.link(target, w.folder / "bericht-kopie.md")
    argv = ["--db", str(w.db), "report", "-o", str(target)]

    def fallocate(_descriptor: int, _offset: int, _length: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    mp.setattr(os, "posix_fallocate", fallocate)
    return argv, (str(target), "Datenträger voll")


@case("export to a full disk through a symlink")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    target = _old_file(w, "ablage.toml")
    link = w.folder / "stand.toml"
    link.symlink_to(target.name)
    argv = ["--db", str(w.db), "export", "-o", str(link)]
    disk_full_while_writing(mp)
    return argv, (f"{link} (Verknüpfung auf {target})", "Datenträger voll")


# --- command-line arguments --------------------------------------------------------------------


@case("status: unknown status")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "status", "1.2", "fertig"], ("Unbekannter Status „fertig“",)


@case("status: unknown measure")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "status", "9.99", "delayed"], ("Maßnahme 9.99 gibt es nicht",)


@case("status: bad measure number")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "status", "drei", "delayed"], ("„drei“", "Maßnahmennummer")


@case("status: bad date")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "status", "1.2", "delayed", "--since", "31.02.2021"]
    return argv, ("--since", "„31.02.2021“ ist kein gültiges Datum")


@case("status: a move the workflow does not allow")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "status", "1.1", "planning"], ("Maßnahme 1.1", "Etabliert")


@case("status: handed over without a unit")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "status", "1.2", "handed_over"], ("Maßnahme 1.2", "--unit")


@case("status: note with an ESC sequence")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "status", "1.2", "delayed", "--note", "\x1b[2Jweg"]
    return argv, ("Maßnahme 1.2", "Notiz", "U+001B")


@case("status: a 1 MB note")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "status", "1.2", "delayed", "--note", "x" * 1_000_000]
    return argv, ("Maßnahme 1.2", "Notiz", "Text zu lang")


@case("show: a number with a line break")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "show", "1.1\n2.2"], ("„1.1\\n2.2“", "Maßnahmennummer")


@case("milestone: empty title")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "milestone", "1.6", ""], ("Titel des Meilensteins",)


@case("milestone: blank title")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "milestone", "1.6", "   ", "--due", "2021"]
    return argv, ("Titel des Meilensteins", "leer")


@case("milestone: bad due date")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "milestone", "1.6", "Pilotbetrieb", "--due", "morgen"]
    return argv, ("--due", "„morgen“")


@case("delay: until before since")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(w.db), "delay", "3.2", "--since", "2021", "--until", "2020"]
    return argv, ("Verzögerung", "„bis“")


@case("list: unknown status filter")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "list", "--status", "halbfertig"], ("„halbfertig“",)


@case("report: bad --from date")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "report", "--from", "13/2020"], ("--from", "„13/2020“")


@case("list: --field not a number (argparse)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "list", "--field", "drei"], ("--field", "'drei'", "--help")


@case("an unknown command (argparse)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "staus", "1.2", "delayed"], ("'staus'", "--help")


@case("status without a status (argparse)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "status", "1.2"], ("koordinator status", "STATUS")


@case("new: field 0 (argparse)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "new", "0", "Titel"], ("FELD", "'0'", "--help")


@case("new: an unknown field")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "new", "5", "Titel"], ("Handlungsfeld 5 gibt es nicht",)


@case("new: the field already holds 1.999")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    full = w.file("voll.toml", new_measure_snapshot().replace('"1.1"', '"1.999"'))
    assert main(["--db", str(w.empty_db), "import", str(full)]) == 0
    return ["--db", str(w.empty_db), "new", "1", "Titel"], ("Handlungsfeld 1 ist voll", "999")


@case("new: a title with a line feed")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "new", "1", "zwei\nZeilen"], ("Titel", "Zeilenumbruch")


@case("new: a title with an ESC sequence")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "new", "1", "\x1b[2Jweg"], ("Titel", "U+001B")


@case("edit: unknown measure")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "edit", "9.99", "--title", "X"], ("Maßnahme 9.99 gibt es nicht",)


@case("edit: nothing to change")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "edit", "1.6"], ("--title", "--unit", "--note")


@case("edit: an empty title")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "edit", "1.6", "--title", " "], ("Titel", "leer")


@case("edit: a read-only database")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    simulate_read_only(mp, w.db)
    return ["--db", str(w.db), "edit", "1.6", "--note", "x"], (str(w.db), "schreibgeschützt")


@case("undo: nothing of one's own to undo")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(w.db), "undo", "--yes"], ("keine eigene Änderung",)


def _own_change(path: Path) -> Path:
    """A change by the author the tests act as (KOORDINATOR_USER, conftest)."""
    database = open_database(DatabaseTarget(path))
    try:
        Catalogue(database, author="testerin").change_status("1.11", "on_schedule")
    finally:
        database.close()
    return path


@case("undo: no terminal to ask on, no --yes")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    return ["--db", str(_own_change(w.db)), "undo"], ("Maßnahme 1.11", "Terminal", "--yes")


@case("undo --yes: --read-only")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], tuple[str, ...]]:
    argv = ["--db", str(_own_change(w.db)), "--read-only", "undo", "--yes"]
    return argv, ("schreibgeschützt", "--read-only")


# Numbers: ASCII digits only (str.isdigit and int take "²", "①", "٣"), and no integer larger
# than SQLite stores.
_NOT_ASCII_NUMBERS = {
    "a superscript digit": "².1",
    "a circled digit": "1.①",
    "Arabic-Indic digits": "٣.٦",
    "full-width digits": "３.２",
}
for _label, _number in _NOT_ASCII_NUMBERS.items():

    def _not_ascii(w: World, mp: pytest.MonkeyPatch, number: str = _number) -> Any:
        return ["--db", str(w.db), "show", number], (f"„{number}“", "Maßnahmennummer")

    case(f"show: a measure number with {_label}")(_not_ascii)


@case("status: a measure number of 5,000 digits")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["--db", str(w.db), "status", "1." + "9" * 5000, "delayed"], ("Maßnahmennummer",)


@case("show: a field of three digits")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["--db", str(w.db), "show", "100.1"], ("„100.1“", "Maßnahmennummer")


@case("milestone: --due in Arabic-Indic digits")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    argv = ["--db", str(w.db), "milestone", "1.6", "Pilotbetrieb", "--due", "٢٠٢١"]
    return argv, ("--due", "„٢٠٢١“", "kein gültiges Datum")


@case("status: --since in full-width digits")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    argv = ["--db", str(w.db), "status", "1.2", "delayed", "--since", "０３/２０２０"]
    return argv, ("--since", "kein gültiges Datum")


@case("report: --from in Arabic-Indic digits")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["--db", str(w.db), "report", "--from", "٢٠٢٠"], ("--from", "„٢٠٢٠“")


_BAD_WHOLE_NUMBERS = {
    "--field": (
        ["list", "--field"],
        {
            "a superscript digit": "²",
            "Arabic-Indic digits": "٣",
            "underscores": "1_0",
            "2**64": str(2**64),
            "-2**64": str(-(2**64)),
            "0": "0",
            "100": "100",
        },
    ),
    "--limit": (
        ["history", "--limit"],
        {
            "2**63": str(2**63),
            "-1": "-1",
            "0": "0",
            "5,000 digits": "9" * 5000,
        },
    ),
    "--stale-months": (
        ["export", "--stale-months"],
        {
            "2**64": str(2**64),
            "1,000,000": "1000000",
            "-1": "-1",
        },
    ),
}
for _option, (_argv, _values) in _BAD_WHOLE_NUMBERS.items():
    for _label, _value in _values.items():

        def _whole(
            w: World, mp: pytest.MonkeyPatch, argv: list[str] = _argv, value: str = _value
        ) -> Any:
            return ["--db", str(w.db), *argv, value], (f"{argv[-1]}:", "--help")

        case(f"{_argv[0]}: {_option} {_label} (argparse)")(_whole)


@case("--as empty (argparse)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["--as", "", "--db", str(w.db), "status", "1.2", "delayed"], ("--as", "leer")


@case("--as blank, after the command (argparse)")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    return ["--db", str(w.db), "status", "1.2", "delayed", "--as", " \t "], ("--as", "leer")


# --- names too long, folders that cannot be entered --------------------------------------------

LONG_NAME = "stand-" + "x" * 294  # 300 characters: more than a file system's 255


def simulate_unsearchable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """A folder the user may not enter (no x permission): for real by permissions, and (as
    root, who may enter anyway) by `os.stat` and `os.open` failing with EACCES for what is
    in it, as they would for an ordinary user.  Keep the folder empty: the test's picture
    of the folder must not need to look inside."""
    folder.chmod(0)
    if os.geteuid() != 0:
        return
    denied = folder.resolve()
    real_stat, real_open = os.stat, os.open

    def inside(path: Any) -> bool:
        return not isinstance(path, int) and denied in Path(os.fsdecode(path)).absolute().parents

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if inside(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_stat(path, *args, **kwargs)

    def open_(path: Any, *args: Any, **kwargs: Any) -> int:
        if inside(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "open", open_)


def _unsearchable(w: World, mp: pytest.MonkeyPatch) -> Path:
    folder = w.folder / "gesperrt"
    folder.mkdir()
    simulate_unsearchable(mp, folder)
    return folder


_TOO_LONG = "Name zu lang"
_DENIED = "keine Berechtigung"


@case("import: a file name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / LONG_NAME
    return ["--db", str(w.db), "import", str(path)], (str(path), _TOO_LONG)


@case("import: a file in a folder name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / LONG_NAME / "stand.toml"
    return ["--db", str(w.db), "import", str(path)], (str(path), _TOO_LONG)


@case("diff: a file name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    old, new = w.snapshot("alt.toml"), w.folder / LONG_NAME
    return ["diff", str(old), str(new)], (str(new), _TOO_LONG)


@case("report --since: a file name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / LONG_NAME
    return ["--db", str(w.db), "report", "--since", str(path)], (str(path), _TOO_LONG)


@case("export -o: a file name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / LONG_NAME
    return ["--db", str(w.db), "export", "-o", str(path)], (str(path), _TOO_LONG)


@case("export -o: into a folder name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / LONG_NAME / "stand.toml"
    return ["--db", str(w.db), "export", "-o", str(path)], (str(path), _TOO_LONG)


@case("report -o: a file name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / (LONG_NAME + ".md")
    return ["--db", str(w.db), "report", "-o", str(path)], (str(path), _TOO_LONG)


@case("db: a file name of 300 characters")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = w.folder / (LONG_NAME + ".db")
    return ["--db", str(path), "list"], (str(path), _TOO_LONG)


@case("import: a file in a folder that cannot be entered")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    db = w.db
    path = _unsearchable(w, mp) / "stand.toml"
    return ["--db", str(db), "import", str(path)], (str(path), _DENIED)


@case("diff: a file in a folder that cannot be entered")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    old = w.snapshot("alt.toml")
    new = _unsearchable(w, mp) / "neu.toml"
    return ["diff", str(old), str(new)], (str(new), _DENIED)


@case("report --since: a file in a folder that cannot be entered")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    db = w.db
    path = _unsearchable(w, mp) / "stand.toml"
    return ["--db", str(db), "report", "--since", str(path)], (str(path), _DENIED)


@case("export -o: into a folder that cannot be entered")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    db = w.db
    path = _unsearchable(w, mp) / "stand.toml"
    return ["--db", str(db), "export", "-o", str(path)], (str(path), _DENIED)


@case("report -o: into a folder that cannot be entered")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    db = w.db
    path = _unsearchable(w, mp) / "bericht.md"
    return ["--db", str(db), "report", "-o", str(path)], (str(path), _DENIED)


@case("db: in a folder that cannot be entered")
def _(w: World, mp: pytest.MonkeyPatch) -> tuple[list[str], Words]:
    path = _unsearchable(w, mp) / "katalog.db"
    return ["--db", str(path), "list"], (str(path), _DENIED)


# --- the matrix ----------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path, built_sample: Path) -> World:
    folder = tmp_path / "welt"
    folder.mkdir()
    return World(folder, built_sample)


def test_the_matrix_has_at_least_150_cases() -> None:
    assert len(CASES) >= 150


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_exit_2_and_changes_no_file(
    name: str,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with monkeypatch.context() as patched:
        argv, words = CASES[name](world, patched)
        before = folder_state(world.folder)
        capsys.readouterr()
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's usage errors exit instead of returning
            code = exit_.code
        out, err = capsys.readouterr()
    after = folder_state(world.folder)

    assert code == 2, err
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert re.match(r"koordinator( [a-z]+)?: ", err), err  # "koordinator list: " from argparse
    assert len(err) < 1200, err[:300]
    assert all(char.isprintable() for char in err.rstrip("\n")), repr(err)
    for word in words:
        choices = (word,) if isinstance(word, str) else word
        assert any(choice in err for choice in choices), f"{word!r} not in {err!r}"
    assert without_new_companions(after, before) == before


# --- the cases' other sides: what must work, and that the refusals are about the input ---------


def test_a_read_only_database_can_still_be_read(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    simulate_read_only(monkeypatch, world.db)
    before = world.db.read_bytes()
    assert main(["--db", str(world.db), "list", "--field", "2"]) == 0
    out, err = capsys.readouterr()
    assert "8 Maßnahmen" in out and err == ""
    assert main(["--db", str(world.db), "show", "3.6", "--format", "json"]) == 0
    assert '"number": "3.6"' in capsys.readouterr().out
    assert world.db.read_bytes() == before


def test_the_crafted_snapshot_imports_with_a_sensible_title(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The long, NUL, ESC and C1 cases are refused for their title alone."""
    path = world.new_measure_titled("gut.toml", "Bürgerportal – zweite Stufe")
    assert main(["--db", str(world.empty_db), "import", str(path)]) == 0, capsys.readouterr().err
    assert main(["--db", str(world.empty_db), "show", "1.1"]) == 0
    assert "Bürgerportal – zweite Stufe" in capsys.readouterr().out


def test_a_failed_export_leaves_the_old_file_and_no_temporary_file(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _old_file(world, "stand.toml")
    with monkeypatch.context() as patched:
        disk_full_while_writing(patched)
        assert main(["--db", str(world.db), "export", "-o", str(target)]) == 2
    assert target.read_text(encoding="utf-8") == "# der Stand vom letzten Mal\n"
    assert sorted(p.name for p in world.folder.iterdir()) == ["katalog.db", "stand.toml"]
    capsys.readouterr()
    # Once there is space again, the same command writes the whole snapshot.
    assert main(["--db", str(world.db), "export", "-o", str(target)]) == 0
    assert "Snapshot geschrieben" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8").startswith('format = "koordinator-snapshot"')


def test_the_catalogue_refuses_what_a_snapshot_could_not_carry(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Title, unit, reason: every text a change brings is checked, not only the note."""
    db = str(world.db)
    refused = [
        ["--db", db, "milestone", "1.6", "Pilot\x07betrieb"],
        ["--db", db, "status", "1.2", "handed_over", "--unit", "FB\x1b11"],
        ["--db", db, "status", "1.2", "dropped", "--reason", "zu " * 5000],
        ["--as", "anna\x1b[1m", "--db", db, "status", "1.2", "delayed"],
    ]
    for argv in refused:
        assert main(argv) == 2
        assert "Maßnahme" in capsys.readouterr().err
    assert main(["--db", db, "status", "1.2", "delayed", "--note", "Zeile 1\nZeile 2\tTab"]) == 0


def test_the_limits_of_the_whole_number_options_are_accepted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bounds the argument cases cross are themselves fine, and so are blanks around."""
    db = str(world.db)
    assert main(["--db", db, "list", "--field", " 4 "]) == 0
    assert "10 Maßnahmen" in capsys.readouterr().out
    assert main(["--db", db, "list", "--field", "99"]) == 0
    assert "0 Maßnahmen" in capsys.readouterr().out
    assert main(["--db", db, "history", "--limit", str(2**63 - 1)]) == 0
    assert main(["--db", db, "history", "--limit", "+1", "--format", "json"]) == 0
    assert capsys.readouterr().out.count('"kind"') == 1
    for months in ("0", "1200"):
        assert main(["--db", db, "export", "--stale-months", months]) == 0
    capsys.readouterr()
    assert main(["--db", db, "show", "03.06"]) == 0
    assert capsys.readouterr().out.startswith("3.6  ")


def test_a_blank_koordinator_user_falls_back_to_the_system_user(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a blank --as is a mistake (it names the author right there); a blank
    KOORDINATOR_USER is as good as none, and --as is used without its blanks."""
    monkeypatch.setenv("KOORDINATOR_USER", "   ")
    monkeypatch.setenv("LOGNAME", "systemnutzerin")
    assert main(["--db", str(world.db), "status", "1.2", "delayed"]) == 0
    assert main(["--db", str(world.db), "--as", "  anna  ", "status", "1.3", "on_schedule"]) == 0
    capsys.readouterr()
    assert main(["--db", str(world.db), "history", "--format", "json", "--limit", "2"]) == 0
    authors = re.findall(r'"author": "([^"]*)"', capsys.readouterr().out)
    assert authors == ["anna", "systemnutzerin"]


def test_a_long_file_name_the_file_system_allows_is_written(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """250 characters are allowed; the temporary file beside it must not need more."""
    target = world.folder / ("s" * 245 + ".toml")
    assert main(["--db", str(world.db), "export", "-o", str(target)]) == 0, capsys.readouterr()
    assert target.read_text(encoding="utf-8").startswith('format = "koordinator-snapshot"')
    assert sorted(path.name for path in world.folder.iterdir()) == ["katalog.db", target.name]


_HUGE_OR_DEEP = {
    "a 10 MB title": lambda w: w.new_measure_titled("lang.toml", "x" * 10_000_000),
    "a 10 MB key": lambda w: w.file("lang.toml", _HEAD + '"' + "k" * 10_000_000 + '" = 1\n'),
    "1,000,000 nested arrays, one a line": lambda w: w.file(
        "tief.toml", _HEAD + "a = [\n" + "[\n" * 1_000_000 + "]\n" * 1_000_001
    ),
}


@pytest.mark.parametrize("what", list(_HUGE_OR_DEEP))
def test_a_huge_or_deep_snapshot_is_refused_in_a_few_times_its_size(
    world: World, what: str
) -> None:
    """Memory, not time: the reader's peak stays within a few times the file's size."""
    path = _HUGE_OR_DEEP[what](world)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with pytest.raises(SnapshotError, match=f"^{re.escape(str(path))}:[0-9]+: "):
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 5 * size, f"{peak / size:.1f} times the file's size"


def test_an_undo_of_a_damaged_change_says_the_database_is_damaged(world: World) -> None:
    """The UI's undo (no CLI command) reads the change's details: the same one line."""
    database = open_database(DatabaseTarget(world.db))
    try:
        Catalogue(database, author="anna").change_status("1.2", "delayed")
    finally:
        database.close()
    connection = sqlite3.connect(world.db)
    with connection:
        connection.execute(
            "UPDATE history_event SET details = replace(details, '\"id\"', '\"uuid\"')"
            " WHERE author = 'anna'"
        )
    connection.close()
    before = world.db.read_bytes()
    database = open_database(DatabaseTarget(world.db))
    try:
        with pytest.raises(DatabaseError, match=f"^{re.escape(str(world.db))}: .*beschädigt"):
            Catalogue(database, author="anna").undo_last()
    finally:
        database.close()
    assert world.db.read_bytes() == before
