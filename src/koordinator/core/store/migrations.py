"""Numbered schema migrations: a database of an older schema version is brought up to
`sqlite_file.SCHEMA_VERSION` when koordinator opens it.

`MIGRATIONS` holds one step per version, in order: the step with `source` N takes a
database of version N to N + 1, as a function on an `sqlite3` connection or as an SQL
script (`Migration.script`).  Steps are frozen once released: a step is the SQL of its version, not
today's schema.sql.

`migrate` runs them, from the file check (`sqlite_file.check_database`), after the checks that
the file is a koordinator database and before this process's first working connection:

1. `BEGIN IMMEDIATE`: the write lock, waited for like any change (an older koordinator
   still working on the file finishes its change first; nobody can change the file until
   the migration is over, so the backup below is exactly what is migrated).
2. The version is read again inside the transaction: another process may have migrated
   the file meanwhile, and then there is nothing to do.
3. A backup beside the database, `NAME.vN-sicherung-YYYY-MM-DD.db` (a counter is added
   rather than replacing a file of that name), copied by SQLite's online backup from a
   second, read-only connection: never by copying the file, which would open and close it
   outside SQLite and drop this process's locks (see `sqlite_file.CheckedDatabase`).
4. Every step and `PRAGMA user_version` in that one transaction (SQLite's DDL is
   transactional), with foreign keys off, as SQLite's "ALTER TABLE" page prescribes for
   rebuilding a table; before the commit `PRAGMA foreign_key_check`, `PRAGMA
   integrity_check` and the tables' columns (`sqlite_file.check_columns`) are verified.
5. `COMMIT`.  Anything that fails before it (an error, a full disk, a kill) rolls the whole
   transaction back: the database stays as it was, and a backup already made is removed.

Why a small runner of our own and not Alembic: the file check runs before the UI's first
paint, which must not import SQLAlchemy (tests/test_import_hygiene.py), and Alembic needs
SQLAlchemy (and its own version table) to start.  Plain SQL on `sqlite3` is also what
SQLite's table rebuilds are written in anyway.  For PostgreSQL next, the same numbered
steps carry over: its DDL is transactional too, `user_version` becomes a one-row version
table, and each step gets a PostgreSQL variant where the SQL differs (a plain `ALTER TABLE`
instead of a rebuild); Alembic can take over there if its autogeneration is worth the
dependency by then.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from koordinator.core.dates import local_today
from koordinator.core.errors import DatabaseError, os_reason
from koordinator.core.files import sync_folder
from koordinator.core.store import sqlite_file


@dataclass(frozen=True)
class Migration:
    """One step: a database of schema version `source` becomes version `source + 1`.

    `apply` runs inside the migration's transaction and must not commit; foreign keys are
    off (rebuild a table by SQLite's 12 steps), and checked before the commit.
    """

    source: int
    what: str
    apply: Callable[[sqlite3.Connection], None]

    @classmethod
    def script(cls, source: int, what: str, sql: str) -> Migration:
        """A step written as SQL statements, run one by one in the transaction (not by
        `executescript`, which commits first)."""

        def apply(connection: sqlite3.Connection) -> None:
            for statement in statements(sql):
                connection.execute(statement)

        return cls(source, what, apply)


# Version 2 (issue 14): a measure is identified by `uid`, the id of the event that created it
# (filled from that event), and may be `withdrawn`; a number is unique among the measures not
# withdrawn; three new kinds of event (renumbered, milestone deleted, delay edited);
# an event's `conflict` (why a merge's replay did not apply it).
# Both tables are rebuilt, as SQLite changes a table's checks and keys only that way.
_VERSION_2 = """
CREATE TABLE measure_v2 (
    id INTEGER NOT NULL,
    uid TEXT NOT NULL,
    number TEXT NOT NULL,
    field_code INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    title TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL,
    origin_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    withdrawn BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE (uid),
    FOREIGN KEY (field_code) REFERENCES field_of_action (code),
    CONSTRAINT measure_number_matches CHECK (number = field_code || '.' || sequence),
    CONSTRAINT measure_sequence_positive CHECK (sequence >= 1),
    CONSTRAINT measure_title_not_blank CHECK (length(trim(title)) > 0),
    CONSTRAINT measure_origin_known CHECK (origin IN ('catalog', 'added')),
    CONSTRAINT measure_status_known CHECK (status IN ('planning', 'on_schedule', 'delayed', 'established', 'handed_over', 'dropped')),
    CONSTRAINT measure_revision_positive CHECK (revision >= 1),
    CONSTRAINT measure_withdrawn_flag CHECK (withdrawn IN (0, 1)),
    CONSTRAINT measure_origin_date_format CHECK (origin_date GLOB '[12][0-9][0-9][0-9]' OR origin_date GLOB '[12][0-9][0-9][0-9]-[01][0-9]' OR origin_date GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CONSTRAINT measure_updated_at_format CHECK (length(updated_at) = 27 AND updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);
INSERT INTO measure_v2 (uid, id, number, field_code, sequence, title, unit, origin, origin_date, status, note, revision, updated_at)
SELECT
    coalesce(
        (SELECT event.id FROM history_event AS event
         WHERE event.measure_id = measure.id AND event.kind = 'measure_created'
         ORDER BY event.occurred_at, event.id LIMIT 1),
        lower(substr(hex(randomblob(16)), 1, 8) || '-' || substr(hex(randomblob(2)), 1, 4) || '-4' || substr(hex(randomblob(2)), 2, 3) || '-a' || substr(hex(randomblob(2)), 2, 3) || '-' || substr(hex(randomblob(6)), 1, 12))
    ),
    id, number, field_code, sequence, title, unit, origin, origin_date, status, note, revision, updated_at
FROM measure;
DROP TABLE measure;
ALTER TABLE measure_v2 RENAME TO measure;
CREATE UNIQUE INDEX ux_measure_number ON measure (number) WHERE withdrawn = 0;
CREATE INDEX ix_measure_field_sequence ON measure (field_code, sequence);
CREATE INDEX ix_measure_status ON measure (status);
CREATE TABLE history_event_v2 (
    id TEXT NOT NULL,
    measure_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    author TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    from_status TEXT,
    to_status TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    conflict TEXT,
    PRIMARY KEY (id),
    FOREIGN KEY (measure_id) REFERENCES measure (id),
    CONSTRAINT event_kind_known CHECK (kind IN ('measure_created', 'measure_edited', 'status_changed', 'milestone_added', 'milestone_completed', 'milestone_edited', 'delay_logged', 'delay_resolved', 'change_undone', 'measure_renumbered', 'milestone_deleted', 'delay_edited')),
    CONSTRAINT event_author_not_blank CHECK (length(trim(author)) > 0),
    CONSTRAINT event_from_status_known CHECK (from_status IS NULL OR from_status IN ('planning', 'on_schedule', 'delayed', 'established', 'handed_over', 'dropped')),
    CONSTRAINT event_to_status_known CHECK (to_status IS NULL OR to_status IN ('planning', 'on_schedule', 'delayed', 'established', 'handed_over', 'dropped')),
    CONSTRAINT event_status_move_complete CHECK (kind <> 'status_changed' OR (from_status IS NOT NULL AND to_status IS NOT NULL)),
    CONSTRAINT event_occurred_at_format CHECK (length(occurred_at) = 27 AND occurred_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);
INSERT INTO history_event_v2 (id, measure_id, kind, occurred_at, author, note, from_status, to_status, details)
SELECT id, measure_id, kind, occurred_at, author, note, from_status, to_status, details FROM history_event;
DROP TABLE history_event;
ALTER TABLE history_event_v2 RENAME TO history_event;
CREATE INDEX ix_event_measure_time ON history_event (measure_id, occurred_at);
CREATE INDEX ix_event_time ON history_event (occurred_at);
CREATE INDEX ix_event_author_time ON history_event (author, occurred_at);
"""

# In order of `source`: 1, 2, ...  The step from version N is MIGRATIONS[N - 1].
MIGRATIONS: tuple[Migration, ...] = (
    Migration.script(
        1, "Maßnahmen mit dauerhafter Kennung, neue Arten von Ereignissen", _VERSION_2
    ),
)


def statements(sql: str) -> Iterator[str]:
    """The complete SQL statements of a script (a `;` inside a string or a trigger's body
    does not end one)."""
    parts = sql.split(";")
    pending = ""
    for index, part in enumerate(parts):
        pending += part if index == len(parts) - 1 else f"{part};"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()


def steps_from(version: int, target: sqlite_file.DatabaseTarget) -> tuple[Migration, ...]:
    """The steps from `version` to the current one, each checked to be the one it claims."""
    steps = MIGRATIONS[version - 1 : sqlite_file.SCHEMA_VERSION - 1]
    expected = tuple(range(version, sqlite_file.SCHEMA_VERSION))
    if tuple(step.source for step in steps) != expected:
        raise DatabaseError(
            f"{target.display}: Schema-Version {version} kann nicht auf "
            f"{sqlite_file.SCHEMA_VERSION} aktualisiert werden (keine Migration vorhanden)"
        )
    return steps


def migrate(target: sqlite_file.DatabaseTarget, *, today: date | None = None) -> str:
    """Bring the database at `target` to the current schema version, after a backup beside
    it.  Returns the one German line that tells the user (where the backup is), or "" when
    there was nothing to do.  A failure raises DatabaseError (or, for a bug in a step, the
    step's exception) and leaves the database as it was."""
    connection = sqlite3.connect(
        f"{sqlite_file.file_uri(target.path)}?mode=rw",
        uri=True,
        timeout=sqlite_file.BUSY_TIMEOUT_SECONDS,
        isolation_level=None,
    )
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(sqlite_file.BUSY_TIMEOUT_SECONDS * 1000)}")
        # Outside the transaction: inside one, this pragma does nothing.
        connection.execute("PRAGMA foreign_keys = OFF")
        return _migrate(connection, target, today or local_today())
    except BaseException as error:
        connection.close()
        _roll_back_what_is_left(target)
        if isinstance(error, sqlite3.Error):
            raise _failed(target, error) from None
        raise
    finally:
        connection.close()


def _roll_back_what_is_left(target: sqlite_file.DatabaseTarget) -> None:
    """After a full disk (or an I/O error) in the middle of a transaction in rollback-journal
    mode, SQLite gives up the transaction but leaves pages it had written in the file, with
    the journal that undoes them: the next connection to read the file rolls them back.
    That is done here at once, so that the file is as it was when the failure is reported."""
    with contextlib.suppress(sqlite3.Error):
        reader = sqlite3.connect(
            f"{sqlite_file.file_uri(target.path)}?mode=rw",
            uri=True,
            timeout=sqlite_file.BUSY_TIMEOUT_SECONDS,
        )
        try:
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            reader.close()


def _migrate(
    connection: sqlite3.Connection, target: sqlite_file.DatabaseTarget, today: date
) -> str:
    connection.execute("BEGIN IMMEDIATE")
    backup: Path | None = None
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version >= sqlite_file.SCHEMA_VERSION:  # migrated by another process meanwhile
            connection.execute("ROLLBACK")
            return ""
        steps = steps_from(version, target)
        backup = _write_backup(target, version, today)
        for step in steps:
            step.apply(connection)
            if not connection.in_transaction:
                raise RuntimeError(f"migration from version {step.source} ended the transaction")
        connection.execute(f"PRAGMA user_version = {int(sqlite_file.SCHEMA_VERSION)}")
        _verify(connection, target)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    return (
        f"{target.display}: auf Schema-Version {sqlite_file.SCHEMA_VERSION} aktualisiert – "
        f"Sicherung der Version {version}: {backup}"
    )


def _verify(connection: sqlite3.Connection, target: sqlite_file.DatabaseTarget) -> None:
    """What a migrated file must be before it is committed: every reference resolved, the
    file sound, and exactly the tables and columns this version works with."""
    problem = ""
    dangling = connection.execute("PRAGMA foreign_key_check").fetchall()
    if dangling:
        table, rowid, parent, _ = dangling[0]
        problem = f"{len(dangling)} Verweise ins Leere, z. B. {table} Zeile {rowid} auf {parent}"
    if not problem:
        (integrity,) = connection.execute("PRAGMA integrity_check(1)").fetchone()
        problem = "" if integrity == "ok" else integrity
    problem = problem or sqlite_file.column_problem(sqlite_file.read_columns(connection))
    if problem:
        raise DatabaseError(
            f"{target.display}: Aktualisierung auf Schema-Version {sqlite_file.SCHEMA_VERSION} "
            f"abgebrochen ({problem}) – die Datenbank ist unverändert"
        )


def backup_path(path: Path, version: int, today: date, counter: int = 1) -> Path:
    """`NAME.vN-sicherung-YYYY-MM-DD.db`, with `-2`, `-3`, ... after the date for a second,
    third backup of the day."""
    again = f"-{counter}" if counter > 1 else ""
    return path.with_name(
        f"{path.stem}.v{version}-sicherung-{today.isoformat()}{again}{path.suffix or '.db'}"
    )


def _write_backup(target: sqlite_file.DatabaseTarget, version: int, today: date) -> Path:
    """A consistent copy of the database (as this transaction sees it: it holds the write
    lock) under a name no file has yet."""
    path = target.path
    temporary = path.with_name(f".{path.name[:100]}.sicherung-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        source = sqlite3.connect(
            f"{sqlite_file.file_uri(path)}?mode=ro",
            uri=True,
            timeout=sqlite_file.BUSY_TIMEOUT_SECONDS,
        )
        try:
            copy = sqlite3.connect(temporary)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
        with temporary.open("rb+") as written:  # the copy, never the database itself
            os.fsync(written.fileno())
        for counter in range(1, 1000):
            final = backup_path(path, version, today, counter)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, final)  # fails if the name is taken: nothing replaced
                break
        else:
            raise FileExistsError(final)
        sync_folder(path.parent)
        return final
    except (OSError, sqlite3.Error) as error:
        reason = os_reason(error) if isinstance(error, OSError) else _sqlite_reason(error)
        raise DatabaseError(
            f"{target.display}: Schema-Version {version} muss auf {sqlite_file.SCHEMA_VERSION} "
            f"aktualisiert werden, aber die Sicherung daneben kann nicht angelegt werden "
            f"({reason}) – nichts geändert"
        ) from None
    finally:
        for leftover in (temporary, *sqlite_file.companions(temporary)):
            leftover.unlink(missing_ok=True)


def _sqlite_reason(error: sqlite3.Error) -> str:
    reason = str(error)
    return "Datenträger voll" if "full" in reason else reason


def _failed(target: sqlite_file.DatabaseTarget, error: sqlite3.Error) -> DatabaseError:
    reason = str(error)
    if "locked" in reason or "busy" in reason:
        return DatabaseError(sqlite_file.locked_message(target))
    return DatabaseError(
        f"{target.display}: Aktualisierung auf Schema-Version {sqlite_file.SCHEMA_VERSION} "
        f"fehlgeschlagen ({_sqlite_reason(error)}) – die Datenbank ist unverändert"
    )
