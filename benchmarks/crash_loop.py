"""Crash safety: kill the real command line with SIGKILL at random moments, then check.

    python benchmarks/crash_loop.py --kills 200 [--seed 1] [--keep FOLDER]

On a copy of the sample database this starts `python -m koordinator --db COPY status NR
delayed|on_schedule --note run-K` again and again and kills most of the processes with
SIGKILL at a random moment of their life:

* "anywhere": uniformly over the whole expected lifetime (mostly imports and start-up);
* "database": while the database is open (read, BEGIN IMMEDIATE, write, commit, checkpoint);
* "commit": 0-4 ms after COMMIT began, while SQLite writes and syncs the log (the child
  imports a `sitecustomize` hook that starts a timer thread at COMMIT; SIGKILL comes from
  that timer, the command itself is unchanged);

and lets some run to the end.  A killed process leaves its write-ahead log behind for the
next one to recover.  Afterwards (and every 50 kills) it checks:

1. `PRAGMA integrity_check` is "ok" and `PRAGMA foreign_key_check` finds nothing;
2. every change whose command exited 0 is in the history (found by its unique note), once,
   with the status it asked for; a killed change is there once or not at all;
3. every measure's stored state equals the replay of its history
   (`koordinator.core.replay`), so no change is there by halves.

Exit code 0 if everything passed, 1 otherwise.  tests/test_reliability.py runs a reduced
loop with the same code and the same checks.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample.db"
TOGGLE = {"on_schedule": "delayed", "delayed": "on_schedule"}
AUTHOR = "crash-loop"
# Kill modes and how often each is drawn ("finish": left to run to the end).
MODES = (("anywhere", 0.35), ("database", 0.25), ("commit", 0.25), ("finish", 0.15))
# In "commit" mode SIGKILL arrives up to this many seconds after COMMIT began.
COMMIT_SPREAD = 0.004


@dataclass
class Run:
    index: int
    number: str
    target: str
    mode: str
    returncode: int
    stderr: str
    seconds: float
    committed: bool = False  # its change is in the history (set by the check)

    @property
    def note(self) -> str:
        return f"run-{self.index}"

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


@dataclass
class Report:
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    changes_checked: int = 0  # changes of commands that exited 0, found in the history
    killed_but_committed: int = 0  # killed after its commit: the change is there, whole
    torn_commits: int = 0  # kills that left uncommitted frames in the log (died mid-commit)
    measures_checked: int = 0
    checks: int = 0  # how often the whole database was checked
    lifetime: float = 0.0  # median seconds of an uninterrupted run (calibration)
    seconds: float = 0.0

    @property
    def kills(self) -> int:
        return sum(run.killed for run in self.runs)

    @property
    def exited_ok(self) -> list[Run]:
        return [run for run in self.runs if run.returncode == 0]

    def kills_by_mode(self) -> dict[str, tuple[int, int]]:
        """mode -> (kills, of which the change had been committed)."""
        counts = {mode: [0, 0] for mode, _ in MODES if mode != "finish"}
        for run in self.runs:
            if run.killed:
                counts[run.mode][0] += 1
                counts[run.mode][1] += run.committed
        return {mode: (kills, committed) for mode, (kills, committed) in counts.items()}

    @property
    def passed(self) -> bool:
        return not self.problems

    def lines(self) -> Iterable[str]:
        by_mode = ", ".join(
            f"{mode} {kills} ({committed} after the commit)"
            for mode, (kills, committed) in self.kills_by_mode().items()
        )
        yield f"runs:                       {len(self.runs)} (CLI lifetime ~{self.lifetime:.2f} s)"
        yield f"SIGKILLs delivered:         {self.kills} ({by_mode})"
        yield f"killed after their commit:  {self.killed_but_committed} (change present, whole)"
        yield f"torn commits:               {self.torn_commits} (killed with frames not yet committed)"
        yield f"commands exited 0:          {len(self.exited_ok)}"
        yield f"changes checked:            {self.changes_checked} of {len(self.exited_ok)} found"
        yield f"database checks:            {self.checks} (integrity, foreign keys, replay)"
        yield f"measures replayed:          {self.measures_checked}"
        yield f"time:                       {self.seconds:.0f} s"
        yield "result:                     " + (
            "all passed" if self.passed else f"{len(self.problems)} problems"
        )
        for problem in self.problems[:20]:
            yield f"  PROBLEM: {problem}"


# --- checks (also used by benchmarks/concurrency.py and the tests) -----------------------------


def check_consistency(path: Path) -> tuple[list[str], int]:
    """Integrity, foreign keys, and every measure's state against the replay of its history.

    Returns the problems found and the number of measures checked.
    """
    from koordinator.core import replay
    from koordinator.core.store.sqlite_store import DatabaseTarget, open_database

    problems: list[str] = []
    connection = sqlite3.connect(path, timeout=30)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    if integrity != ["ok"]:
        problems.append(f"integrity_check: {'; '.join(integrity[:5])}")
    if foreign:
        problems.append(f"foreign_key_check: {foreign[:5]}")
    database = open_database(DatabaseTarget(path), read_only=True)
    try:
        with database.reading_catalogue() as catalogue:
            events = catalogue.events()
            states = catalogue.states(events)
    finally:
        database.close()
    for uid, state in states.items():
        derived = replay.replay(events.get(uid, ())).state
        differences = [str(d) for d in replay.differences(state, derived)]
        if differences:
            problems.append(
                f"{state.number}: stored state differs from its history: {differences[0]}"
            )
    return problems, len(states)


def notes_in_history(path: Path, prefix: str) -> dict[str, list[tuple[str, str | None]]]:
    """note -> [(author, to_status)] of the history events whose note starts with `prefix`."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = connection.execute(
            "SELECT note, author, to_status FROM history_event WHERE note LIKE ? || '%'",
            (prefix,),
        ).fetchall()
    finally:
        connection.close()
    found: dict[str, list[tuple[str, str | None]]] = {}
    for note, author, to_status in rows:
        found.setdefault(note, []).append((author, to_status))
    return found


def check_runs(path: Path, runs: list[Run], report: Report) -> None:
    """Every change that exited 0 is there once, with its status; killed ones at most once."""
    found = notes_in_history(path, "run-")
    report.changes_checked = 0
    report.killed_but_committed = 0
    for run in runs:
        events = found.get(run.note, [])
        if len(events) > 1:
            report.problems.append(f"{run.note}: {len(events)} events, expected at most one")
        if events and events[0] != (AUTHOR, run.target):
            report.problems.append(f"{run.note}: event {events[0]}, expected {run.target}")
        if run.returncode == 0:
            if events:
                report.changes_checked += 1
            else:
                report.problems.append(
                    f"{run.note}: {run.number} -> {run.target} exited 0 but is not in the history"
                )
        elif run.killed:
            run.committed = bool(events)
            report.killed_but_committed += run.committed
        elif events:
            report.problems.append(f"{run.note}: exited {run.returncode} but its change is there")


def full_check(path: Path, report: Report) -> None:
    problems, measures = check_consistency(path)
    report.problems.extend(problems)
    report.measures_checked += measures
    report.checks += 1
    check_runs(path, report.runs, report)
    report.problems = list(dict.fromkeys(report.problems))  # a lost change is said once


# --- the loop ---------------------------------------------------------------------------------


def statuses(path: Path) -> dict[str, str]:
    """The measures that are on schedule or delayed, and their status (a normal reader)."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = connection.execute(
            "SELECT number, status FROM measure WHERE status IN ('on_schedule', 'delayed')"
        ).fetchall()
    finally:
        connection.close()
    return dict(rows)


def _command(path: Path, number: str, target: str, note: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "koordinator",
        "--db",
        str(path),
        "--as",
        AUTHOR,
        "status",
        number,
        target,
        "--note",
        note,
    ]


def _wal_size(path: Path) -> int:
    try:
        return path.with_name(path.name + "-wal").stat().st_size
    except FileNotFoundError:
        return -1


def uncommitted_frames(path: Path) -> int:
    """Frames of the current write-ahead log after its last commit frame.

    Right after a kill, more than 0 means the process died while writing a transaction
    into the log: its commit was torn, and recovery must ignore those frames.
    """
    try:
        data = path.with_name(path.name + "-wal").read_bytes()
    except FileNotFoundError:
        return 0
    if len(data) < 32 or data[:4] not in (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83"):
        return 0
    page_size = int.from_bytes(data[8:12], "big")
    salts = data[16:24]
    frames = since_commit = 0
    offset = 32
    while offset + 24 + page_size <= len(data) and data[offset + 8 : offset + 16] == salts:
        frames += 1
        commit = int.from_bytes(data[offset + 4 : offset + 8], "big")
        since_commit = 0 if commit else since_commit + 1
        offset += 24 + page_size
    return since_commit


# Imported by the child processes of the "commit" mode (PYTHONPATH): it arms a timer when the
# write transaction's COMMIT starts, so that SIGKILL arrives while SQLite is writing and
# syncing the log.  The child is otherwise the unchanged `python -m koordinator`.
_COMMIT_HOOK = """\
import os

_delay = os.environ.get("CRASH_LOOP_COMMIT_DELAY")
if _delay is not None:
    import signal
    import sqlite3
    import sqlite3.dbapi2
    import threading
    import time

    _connect = sqlite3.connect

    def _kill_soon():
        time.sleep(float(_delay))
        os.kill(os.getpid(), signal.SIGKILL)

    def _trace(statement):
        if statement.lstrip().upper().startswith("COMMIT"):
            threading.Thread(target=_kill_soon, daemon=True).start()

    def _traced_connect(*args, **kwargs):
        connection = _connect(*args, **kwargs)
        connection.set_trace_callback(_trace)
        return connection

    sqlite3.connect = sqlite3.dbapi2.connect = _traced_connect
"""


def _run_once(
    path: Path,
    number: str,
    target: str,
    note: str,
    *,
    kill_at: float | None = None,
    commit_delay: float | None = None,
    hook: Path | None = None,
    timing: bool = False,
) -> tuple[int, str, float, float | None]:
    """Start the CLI; SIGKILL it `kill_at` seconds after the start, or `commit_delay`
    seconds after its COMMIT began (through the hook in folder `hook`); with `timing`,
    note when it opened the database.

    Returns (returncode, stderr, seconds, when the write-ahead log appeared).
    """
    env = {**os.environ}
    if commit_delay is not None and hook is not None:
        env["CRASH_LOOP_COMMIT_DELAY"] = f"{commit_delay:.6f}"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hook), env.get("PYTHONPATH")]))
    wal_before = _wal_size(path)
    started = time.perf_counter()
    process = subprocess.Popen(
        _command(path, number, target, note),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    opened = None
    try:
        if kill_at is not None:
            time.sleep(kill_at)
            process.send_signal(signal.SIGKILL)  # nothing happens if it has already ended
        while timing and opened is None and process.poll() is None:
            size = _wal_size(path)
            if size >= 0 and size != wal_before:
                opened = time.perf_counter() - started
            time.sleep(0.0005)
        _, stderr = process.communicate(timeout=120)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return (
        process.returncode,
        stderr.decode("utf-8", "replace"),
        time.perf_counter() - started,
        opened,
    )


def crash_loop(
    kills: int,
    *,
    seed: int = 1,
    folder: Path | None = None,
    check_every: int = 50,
    calibration_runs: int = 3,
    time_limit: float | None = None,
    log: Callable[[str], None] = print,
) -> Report:
    """Run until `kills` processes died of SIGKILL (or `time_limit` seconds have passed);
    check every `check_every` kills and at the end."""
    started = time.perf_counter()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="crash-loop-") as temporary:
        work = folder or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        path = work / "crash.db"
        _copy_sample(path)
        hook = work / "hook"
        hook.mkdir(exist_ok=True)
        (hook / "sitecustomize.py").write_text(_COMMIT_HOOK, encoding="utf-8")
        known = statuses(path)  # number -> status, for the measures whose status is certain
        report = Report()

        def start(mode: str, **how: Any) -> tuple[Run, float | None]:
            nonlocal known
            if len(known) < 3:  # the last change of the others was killed: read them again
                known = statuses(path)
            number = rng.choice(sorted(known))
            target = TOGGLE[known.pop(number)]
            index = len(report.runs) + 1
            code, stderr, seconds, opened = _run_once(
                path, number, target, f"run-{index}", hook=hook, **how
            )
            run = Run(index, number, target, mode, code, stderr.strip(), seconds)
            report.runs.append(run)
            if run.killed:
                report.torn_commits += uncommitted_frames(path) > 0
            elif code == 0:
                known[number] = target
            else:
                report.problems.append(f"{run.note}: exit {code}: {run.stderr[-300:]}")
            return run, opened

        # Calibration: a few runs to the end, timing when they open the database.  The
        # lifetime is then followed as the median of the last finished runs (load changes).
        timings = [start("finish", timing=True) for _ in range(calibration_runs)]
        recent = [run.seconds for run, _ in timings]
        lifetime = statistics.median(recent)
        opened = [moment for _, moment in timings if moment is not None]
        opened_share = statistics.median(opened) / lifetime if opened else 0.7
        log(
            f"calibration: a run takes {lifetime:.2f} s and opens the database after "
            f"~{opened_share * lifetime:.2f} s; {len(known)} measures toggle between "
            "on_schedule and delayed"
        )

        modes, weights = zip(*MODES, strict=True)
        next_check = check_every
        while report.kills < kills:
            if time_limit is not None and time.perf_counter() - started > time_limit:
                log(f"time limit of {time_limit:.0f} s reached after {report.kills} kills")
                break
            lifetime = statistics.median(recent[-9:])
            mode = rng.choices(modes, weights)[0]
            if mode == "anywhere":
                run, _ = start(mode, kill_at=rng.uniform(0.0, 1.1 * lifetime))
            elif mode == "database":
                run, _ = start(mode, kill_at=rng.uniform(opened_share, 1.05) * lifetime)
            elif mode == "commit":
                run, _ = start(mode, commit_delay=rng.uniform(0.0, COMMIT_SPREAD))
            else:
                run, _ = start(mode)
            if run.returncode == 0 and mode != "commit":
                recent.append(run.seconds)
            if report.kills >= next_check and report.kills < kills:
                next_check += check_every
                full_check(path, report)
                known = statuses(path)
                log(
                    f"{report.kills} kills, {len(report.runs)} runs: {len(report.problems)} problems"
                )
        full_check(path, report)
        report.lifetime = statistics.median(recent)
        report.seconds = time.perf_counter() - started
        return report


def _copy_sample(path: Path) -> None:
    if SAMPLE.is_file():
        shutil.copyfile(SAMPLE, path)
        return
    from koordinator.core.store.sample import fill_sample
    from koordinator.core.store.sqlite_store import create_database

    create_database(path, fill=fill_sample)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200, help="SIGKILLs to deliver (200)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the database")
    args = parser.parse_args(argv)
    report = crash_loop(args.kills, seed=args.seed, folder=args.keep)
    for line in report.lines():
        print(line)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
