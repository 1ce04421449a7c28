"""The floor under `koordinator import`: SQLite alone copying a catalogue's rows.

Copies every row of a koordinator database into a new database made from `schema.sql`,
with `INSERT … SELECT` (no Python per row): the time SQLite itself needs for the rows, the
primary keys, the schema's checks and indexes.  Printed twice: with the history's three
secondary indexes in place, and with them dropped before the copy and built after it (as
`import` does for a large import).  See docs/performance.md ("Targets not met").

    .venv/bin/python benchmarks/import_floor.py /tmp/k10k.db
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent.parent / "schema.sql"
HISTORY_INDEXES = {
    "ix_event_measure_time": "history_event (measure_id, occurred_at)",
    "ix_event_time": "history_event (occurred_at)",
    "ix_event_author_time": "history_event (author, occurred_at)",
}


def copy_rows(source: Path, target: Path, *, drop_indexes: bool) -> dict[str, float]:
    timings: dict[str, float] = {}
    connection = sqlite3.connect(f"file:{target}", uri=True, isolation_level=None)
    try:
        connection.executescript(SCHEMA.read_text(encoding="utf-8"))
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("ATTACH DATABASE ? AS source", (f"file:{source}?mode=ro",))
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        if drop_indexes:
            for name in HISTORY_INDEXES:
                connection.execute(f"DROP INDEX {name}")
        for table in ("field_of_action", "measure", "milestone", "delay"):
            connection.execute(f"INSERT INTO {table} SELECT * FROM source.{table}")
        timings["measures, milestones, delays"] = time.perf_counter() - started
        mark = time.perf_counter()
        connection.execute(
            "INSERT INTO history_event SELECT * FROM source.history_event ORDER BY id"
        )
        timings["history events"] = time.perf_counter() - mark
        if drop_indexes:
            mark = time.perf_counter()
            for name, columns in HISTORY_INDEXES.items():
                connection.execute(f"CREATE INDEX {name} ON {columns}")
            timings["history indexes built"] = time.perf_counter() - mark
        mark = time.perf_counter()
        connection.execute("COMMIT")
        timings["commit"] = time.perf_counter() - mark
        timings["all"] = time.perf_counter() - started
    finally:
        connection.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="a koordinator database (read only)")
    args = parser.parse_args()
    (events,) = (
        sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
        .execute("SELECT count(*) FROM history_event")
        .fetchone()
    )
    print(f"{args.db}: {events:,} history events")
    for drop_indexes in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            timings = copy_rows(args.db, Path(folder) / "copy.db", drop_indexes=drop_indexes)
        label = "indexes dropped and rebuilt" if drop_indexes else "indexes in place"
        steps = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items())
        print(f"{label}: {steps}")


if __name__ == "__main__":
    main()
