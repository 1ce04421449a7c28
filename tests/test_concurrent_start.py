"""Two processes opening a database that was never opened before (a copy of sample.db, in
SQLite's rollback-journal mode) at the same moment: both work.  The first connection of a
process switches the file to WAL mode, and SQLite answered a switch that met the other
process's with "locked" at once; one of two `koordinator list` started together failed
about one time in eight with "Datenbank ist seit 30 s … gesperrt" (and a window started
beside another painted no rows)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from test_cli_parity import KOORDINATOR, NO_HANG, SAMPLE_DB

ROUNDS = 60


def test_two_commands_started_together_on_a_fresh_copy_both_succeed(tmp_path: Path) -> None:
    failures = []
    for round_number in range(ROUNDS):
        db = tmp_path / f"r{round_number}.db"
        shutil.copyfile(SAMPLE_DB, db)
        started = [
            subprocess.Popen(
                [KOORDINATOR, "--db", str(db), "list", "--format", "json"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for process in started:
            _, err = process.communicate(timeout=NO_HANG)
            if process.returncode != 0:
                failures.append(f"round {round_number}: exit {process.returncode}: {err.strip()}")
        with closing(sqlite3.connect(db)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert failures == []
