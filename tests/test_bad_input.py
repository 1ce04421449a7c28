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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from koordinator.cli import main
from koordinator.core.catalogue import Catalogue
from koordinator.core.db import DatabaseTarget, create_database, open_database, schema_sql
from koordinator.core.models import SCHEMA_VERSION
from koordinator.core.sample import fill_fields_only
from koordinator.core.snapshot import prepare_export

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
# line must contain (what is wrong, and where).
Case = Callable[[World, pytest.MonkeyPatch], tuple[list[str], tuple[str, ...]]]
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
    mp.setattr("koordinator.core.db.user_of", lambda _path: 4242)
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
    path = w.snapshot("neu.toml", _replace_once("\nversion = 1\n", "\nversion = 2\n"))
    return ["--db", str(w.db), "import", str(path)], (f"{path}:2:", "Snapshot-Version 2")


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


# --- the matrix ----------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path, built_sample: Path) -> World:
    folder = tmp_path / "welt"
    folder.mkdir()
    return World(folder, built_sample)


def test_the_matrix_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30


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
        assert word in err, f"{word!r} not in {err!r}"
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
