"""schema.sql is the source of truth; the SQLAlchemy models must describe exactly its tables.

Two databases are built side by side: A from schema.sql (as koordinator and the sqlite3 shell
build it) and B from `Base.metadata.create_all`.  SQLAlchemy's inspector reads both back, so
any column, key, index, check or default that differs between the two fails a test here.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, create_engine, inspect
from sqlalchemy.engine import Inspector

from koordinator.core.history import EventKind
from koordinator.core.store.models import SCHEMA_VERSION, Base
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database, schema_sql
from koordinator.core.workflow import Status

SCHEMA_FILE = Path(__file__).parents[1] / "schema.sql"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("schema")
    path_a = folder / "from_schema_sql.db"
    path_b = folder / "from_models.db"
    connection = sqlite3.connect(path_a)
    try:
        connection.executescript(schema_sql())
    finally:
        connection.close()
    engine_b = create_engine(f"sqlite:///{path_b}")
    Base.metadata.create_all(engine_b)
    engine_a = create_engine(f"sqlite:///{path_a}")
    yield {"path_a": path_a, "a": inspect(engine_a), "b": inspect(engine_b)}
    engine_a.dispose()
    engine_b.dispose()


def _tables(built: dict[str, Any]) -> list[str]:
    return sorted(built["a"].get_table_names())


def _squash(text: str | None) -> str | None:
    """Whitespace-normalised SQL text."""
    return None if text is None else " ".join(text.split())


def _default(text: str | None) -> str | None:
    """A server default without the quoting and parentheses the two builders may differ in."""
    if text is None:
        return None
    return re.sub(r"""^[\s('"]+|[\s)'"]+$""", "", text)


def _columns(inspector: Inspector, table: str) -> list[tuple[Any, ...]]:
    return [
        (
            column["name"],
            str(column["type"]),
            column["nullable"],
            _default(column["default"]),
        )
        for column in inspector.get_columns(table)
    ]


def _foreign_keys(inspector: Inspector, table: str) -> list[tuple[Any, ...]]:
    return sorted(
        (
            tuple(fk["constrained_columns"]),
            fk["referred_table"],
            tuple(fk["referred_columns"]),
        )
        for fk in inspector.get_foreign_keys(table)
    )


def _unique(inspector: Inspector, table: str) -> list[tuple[str, ...]]:
    return sorted(tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table))


def _indexes(inspector: Inspector, table: str) -> list[tuple[Any, ...]]:
    return sorted(
        (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
        for ix in inspector.get_indexes(table)
    )


def _checks(inspector: Inspector, table: str) -> list[tuple[Any, ...]]:
    return sorted(
        (ck["name"], _squash(ck["sqltext"])) for ck in inspector.get_check_constraints(table)
    )


def test_the_package_ships_the_top_level_schema_sql() -> None:
    assert schema_sql() == SCHEMA_FILE.read_text(encoding="utf-8")


def test_both_builds_have_the_same_tables(built: dict[str, Any]) -> None:
    tables_a = set(built["a"].get_table_names())
    tables_b = set(built["b"].get_table_names())
    assert tables_a == tables_b
    # The domain's five kinds of record are all there.
    assert {"field_of_action", "measure", "milestone", "delay", "history_event"} <= tables_a


@pytest.mark.parametrize(
    ("what", "read"),
    [
        ("columns", _columns),
        ("primary key", lambda i, t: i.get_pk_constraint(t)["constrained_columns"]),
        ("foreign keys", _foreign_keys),
        ("unique constraints", _unique),
        ("indexes", _indexes),
        ("check constraints", _checks),
    ],
)
def test_models_and_schema_sql_agree(built: dict[str, Any], what: str, read: Any) -> None:
    for table in _tables(built):
        from_schema = read(built["a"], table)
        from_models = read(built["b"], table)
        assert from_schema == from_models, f"{table}: {what} differ"


def test_every_table_has_a_primary_key_and_named_checks(built: dict[str, Any]) -> None:
    """Guards the comparison itself: it would be empty if the inspector saw nothing."""
    for table in _tables(built):
        assert built["a"].get_pk_constraint(table)["constrained_columns"], table
        checks = built["a"].get_check_constraints(table)
        assert checks, table
        assert all(check["name"] for check in checks), table


def test_server_defaults_match_the_documented_ones(built: dict[str, Any]) -> None:
    """Notes default to empty, a new measure's revision to 1, details to an empty JSON object."""
    for inspector in (built["a"], built["b"]):
        defaults = {
            (table, column["name"]): _default(column["default"])
            for table in _tables(built)
            for column in inspector.get_columns(table)
            if column["default"] is not None
        }
        assert defaults[("measure", "unit")] == ""
        assert defaults[("measure", "note")] == ""
        assert defaults[("measure", "revision")] == "1"
        assert defaults[("milestone", "done")] == "0"
        assert defaults[("history_event", "details")] == "{}"


def test_schema_sql_sets_the_schema_version(built: dict[str, Any]) -> None:
    connection = sqlite3.connect(built["path_a"])
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        connection.close()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 shell is not installed")
def test_a_database_made_by_the_sqlite3_shell_opens_in_koordinator(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with SCHEMA_FILE.open("rb") as script:
        subprocess.run(
            [shutil.which("sqlite3") or "sqlite3", str(path)],
            stdin=script,
            check=True,
            capture_output=True,
            timeout=30,
        )
    database = open_database(DatabaseTarget(path))
    try:
        assert not database.read_only
        with database.read() as session:
            assert session.execute(Base.metadata.tables["measure"].select()).all() == []
    finally:
        database.close()


# --- the checks really reject bad rows ------------------------------------------------------

TIMESTAMP = "2021-03-01T09:00:00.000000Z"


@pytest.fixture
def schema_db(tmp_path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(tmp_path / "checks.db", isolation_level=None)
    connection.executescript(schema_sql())
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("INSERT INTO field_of_action (code, name) VALUES (1, 'E-Government')")
    connection.execute(
        "INSERT INTO measure (id, uid, number, field_code, sequence, title, origin, origin_date,"
        " status, updated_at) VALUES (1, 'u-1', '1.1', 1, 1, 'Bürgerportal', 'catalog',"
        " '2019-03-12', 'planning', ?)",
        (TIMESTAMP,),
    )
    yield connection
    connection.close()


def _insert_measure(connection: sqlite3.Connection, **changes: Any) -> None:
    row = {
        "id": 2,
        "uid": "u-2",
        "number": "1.2",
        "field_code": 1,
        "sequence": 2,
        "title": "Open Data Portal",
        "origin": "catalog",
        "origin_date": "2019-03-12",
        "status": "on_schedule",
        "updated_at": TIMESTAMP,
    }
    row.update(changes)
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    connection.execute(f"INSERT INTO measure ({names}) VALUES ({marks})", tuple(row.values()))


def _insert_milestone(connection: sqlite3.Connection, **changes: Any) -> None:
    row = {
        "id": "m-1",
        "measure_id": 1,
        "title": "Liveschaltung",
        "due": "2021-06",
        "created_at": TIMESTAMP,
    }
    row.update(changes)
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    connection.execute(f"INSERT INTO milestone ({names}) VALUES ({marks})", tuple(row.values()))


def test_a_valid_row_is_accepted_and_gets_the_defaults(schema_db: sqlite3.Connection) -> None:
    _insert_measure(schema_db)
    _insert_milestone(schema_db)
    unit, note, revision = schema_db.execute(
        "SELECT unit, note, revision FROM measure WHERE number = '1.2'"
    ).fetchone()
    assert (unit, note, revision) == ("", "", 1)
    assert schema_db.execute("SELECT done, note FROM milestone").fetchone() == (0, "")


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "foo"},
        {"origin": "somewhere"},
        {"title": "   "},
        {"number": "1.3"},  # does not match field 1, sequence 2
        {"sequence": 0, "number": "1.0"},
        {"origin_date": "12.03.2019"},
        {"origin_date": "2019-13-45"},
        {"updated_at": "2021-03-01T09:00:00Z"},  # not 27 characters
        {"updated_at": "2021-03-01 09:00:00.000000+00"},
        {"revision": 0},
        {"field_code": 9},  # no such field of action
    ],
    ids=repr,
)
def test_schema_sql_rejects_a_bad_measure(
    schema_db: sqlite3.Connection, changes: dict[str, Any]
) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        _insert_measure(schema_db, **changes)
    assert schema_db.execute("SELECT count(*) FROM measure").fetchone()[0] == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"due": "2021-13-45"},
        {"due": "06/2021"},
        {"due": "morgen"},
        {"done_on": "2021-06"},  # done_on without done
        {"done": 2},
        {"created_at": "2021-03-01"},
        {"measure_id": 99},
    ],
    ids=repr,
)
def test_schema_sql_rejects_a_bad_milestone(
    schema_db: sqlite3.Connection, changes: dict[str, Any]
) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        _insert_milestone(schema_db, **changes)
    assert schema_db.execute("SELECT count(*) FROM milestone").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("kind", "from_status", "to_status", "occurred_at", "author"),
    [
        ("renamed", None, None, TIMESTAMP, "anna"),
        ("status_changed", "planning", None, TIMESTAMP, "anna"),
        ("status_changed", "planning", "foo", TIMESTAMP, "anna"),
        ("measure_edited", None, None, "2021-03-01T09:00:00.000Z", "anna"),
        ("measure_edited", None, None, TIMESTAMP, " "),
    ],
)
def test_schema_sql_rejects_a_bad_history_event(
    schema_db: sqlite3.Connection,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    occurred_at: str,
    author: str,
) -> None:
    insert = (
        "INSERT INTO history_event (id, measure_id, kind, occurred_at, author, from_status,"
        " to_status) VALUES (?, 1, ?, ?, ?, ?, ?)"
    )
    schema_db.execute(
        insert, ("ok", "status_changed", TIMESTAMP, "anna", "planning", "on_schedule")
    )
    with pytest.raises(sqlite3.IntegrityError):
        schema_db.execute(insert, ("bad", kind, occurred_at, author, from_status, to_status))
    assert schema_db.execute("SELECT count(*) FROM history_event").fetchone()[0] == 1


def test_the_file_check_requires_exactly_the_schemas_tables() -> None:
    # dbfile checks a file without SQLAlchemy, so it names the tables itself: a table added
    # to the schema must be added there too, or a file without it would pass the check.
    from koordinator.core.store.sqlite_file import REQUIRED_TABLES

    assert frozenset(Base.metadata.tables) == REQUIRED_TABLES
    schema_tables = set(re.findall(r"CREATE TABLE (\w+)", schema_sql()))
    assert schema_tables == REQUIRED_TABLES


# Each check of a code list: its table, and the enum whose values it must list, in order.
_CODE_CHECKS = {
    "measure_status_known": ("measure", Status),
    "event_kind_known": ("history_event", EventKind),
    "event_from_status_known": ("history_event", Status),
    "event_to_status_known": ("history_event", Status),
}


def _listed(check_text: str) -> list[str]:
    (inside,) = re.findall(r"IN \(([^)]*)\)", check_text)
    return re.findall(r"'([^']*)'", inside)


@pytest.mark.parametrize("name", sorted(_CODE_CHECKS))
def test_the_databases_code_lists_are_the_enums(name: str) -> None:
    """A new status or event kind must reach schema.sql and the models, or the database
    refuses what the service writes."""
    table, enum = _CODE_CHECKS[name]
    expected = [member.value for member in enum]
    (in_schema,) = re.findall(
        rf"CONSTRAINT {name} CHECK \((.*)\),?$", SCHEMA_FILE.read_text(encoding="utf-8"), re.M
    )
    assert _listed(in_schema) == expected, "schema.sql"
    (in_models,) = [
        str(constraint.sqltext)
        for constraint in Base.metadata.tables[table].constraints
        if isinstance(constraint, CheckConstraint) and constraint.name == name
    ]
    assert _listed(in_models) == expected, "models.py"
