"""Helpers shared by the snapshot tests: deterministic clocks, databases, CLI runs."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import tomli_w

from koordinator.cli import main
from koordinator.core.records import table as _measure_table
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import _encode, _row_table, prepare_export
from koordinator.core.snapshot_format import FORMAT_NAME, FORMAT_VERSION, Snapshot
from koordinator.core.store.sample import fill_fields_only
from koordinator.core.store.sqlite_store import (
    DatabaseTarget,
    SqliteStore,
    create_database,
    open_database,
)

START = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)


class TickingClock:
    """A deterministic clock: every reading is one second after the previous one."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@contextmanager
def opened(path: Path) -> Iterator[SqliteStore]:
    database = open_database(DatabaseTarget(path))
    try:
        yield database
    finally:
        database.close()


def empty_database(path: Path) -> Path:
    """A database with only the four fields of action."""
    path.parent.mkdir(parents=True, exist_ok=True)
    create_database(path, fill=fill_fields_only)
    return path


def export_text(path: Path, *, author: str = "testerin") -> str:
    with opened(path) as database:
        return prepare_export(database, author=author).text


def without_export_time(text: str) -> str:
    return re.sub(r'(?m)^exported_at = ".*"$', 'exported_at = "…"', text, count=1)


def dump(path: Path) -> list[str]:
    """The database's content (not its bytes: opening switches the journal to WAL)."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def table_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for "nothing changed" comparisons."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in tables
        }
    finally:
        connection.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def catalogue(database: SqliteStore, author: str, clock: TickingClock | None = None) -> Catalogue:
    return Catalogue(database, author=author, clock=clock or TickingClock())


def line_of(text: str, needle: str, *, after: str = "") -> int:
    """The 1-based number of the first line containing `needle` (after the line with `after`)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def header_of(text: str, needle: str, header: str = "[[measures.events]]") -> int:
    """The line of the last `header` before the first line containing `needle`."""
    lines = text.splitlines()[: line_of(text, needle)]
    return max(i for i, line in enumerate(lines) if line == header) + 1


def benchmark_generator() -> ModuleType:
    """benchmarks/generate.py (not a package): builds large synthetic catalogues quickly."""
    name = "koordinator_benchmark_generate"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def dumps_with_tomli_w(snapshot: Snapshot) -> str:
    """What `snapshot.dumps` must write, the plain way: each block through `tomli_w.dumps`
    (the header line of an array's element is the writer's own, see `snapshot._Writer`)."""
    head = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": snapshot.exported_at,
        "author": snapshot.author,
        "source": snapshot.source,
        "schema_version": snapshot.schema_version,
        "summary": snapshot.summary().to_toml(),
    }
    blocks = [tomli_w.dumps(head)]
    blocks += [
        "[[fields]]\n" + tomli_w.dumps({"code": code, "name": name})
        for code, name in snapshot.fields.items()
    ]
    for record in snapshot.measures:
        state = record.state
        blocks.append("[[measures]]\n" + tomli_w.dumps(_measure_table(state)))
        blocks += [
            "[[measures.milestones]]\n" + tomli_w.dumps(_row_table(row))
            for row in state.milestones.values()
        ]
        blocks += [
            "[[measures.delays]]\n" + tomli_w.dumps(_row_table(row))
            for row in state.delays.values()
        ]
        for event in record.events:
            table = {
                "id": event.id,
                "kind": event.kind,
                "occurred_at": event.occurred_at,
                "author": event.author,
                "note": event.note,
                "from_status": event.from_status,
                "to_status": event.to_status,
            }
            text = "[[measures.events]]\n" + tomli_w.dumps(
                {key: value for key, value in table.items() if value is not None}
            )
            if event.details:
                details = _encode(event.details, changes=True)
                text += "\n" + tomli_w.dumps({"measures": {"events": {"details": details}}})
            blocks.append(text)
    return "\n".join(blocks)
