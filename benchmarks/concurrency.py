"""Concurrency: several processes change statuses on the same database at the same time.

    python benchmarks/concurrency.py --changes 500              # 2 processes x 500, core API
    python benchmarks/concurrency.py --changes 50 --via cli     # each change one CLI process

Each worker process opens the same copy of the sample database and, once all workers are
ready, makes `--changes` status changes as fast as it can, one transaction each: with
`--via api` through `koordinator.core.service.Catalogue.change_status` in a loop (what the
terminal UI does), with `--via cli` by running `python -m koordinator status NR ...` for
each change.  The workers toggle disjoint sets of measures between on_schedule and delayed,
so every change is valid and must succeed; they contend for the same database lock all the
time.  Afterwards it checks:

1. no change failed, and no "database is locked" (German: "gesperrt") reached a worker;
2. no change was lost: each author has exactly `--changes` events in the history, one per
   unique note;
3. `PRAGMA integrity_check` is ok and every measure's state equals the replay of its history.

Exit code 0 if everything passed, 1 otherwise.  tests/test_reliability.py runs 2 x 100.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crash_loop import TOGGLE, check_consistency

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample.db"
LOCKED_WORDS = ("locked", "gesperrt", "busy")


@dataclass
class WorkerResult:
    author: str
    done: int = 0
    failures: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stderr: str = ""
    returncode: int = 0


@dataclass
class Report:
    via: str
    processes: int
    changes: int
    workers: list[WorkerResult] = field(default_factory=list)
    events_by_author: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    measures_checked: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def locked_messages(self) -> int:
        return sum(
            any(word in failure.lower() for word in LOCKED_WORDS)
            for worker in self.workers
            for failure in worker.failures
        ) + sum(
            any(word in worker.stderr.lower() for word in LOCKED_WORDS) for worker in self.workers
        )

    def lines(self) -> Iterable[str]:
        latencies = sorted(ms for worker in self.workers for ms in worker.latencies_ms)
        done = sum(worker.done for worker in self.workers)
        yield f"processes x changes:   {self.processes} x {self.changes} (via {self.via})"
        for worker in self.workers:
            yield (
                f"  {worker.author}: {worker.done} done, {len(worker.failures)} failed, "
                f"{worker.seconds:.1f} s, {self.events_by_author.get(worker.author, 0)} events"
            )
        if latencies:
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            yield (
                f"per change (ms):       median {statistics.median(latencies):.1f}, "
                f"p99 {p99:.1f}, max {latencies[-1]:.1f}"
            )
        yield f"changes succeeded:     {done} of {self.processes * self.changes}"
        yield f"'locked' messages:     {self.locked_messages}"
        yield f"events in history:     {sum(self.events_by_author.values())}"
        yield f"measures replayed:     {self.measures_checked}"
        yield f"wall time:             {self.seconds:.1f} s ({done / max(self.seconds, 1e-9):.0f} changes/s)"
        yield "result:                " + (
            "all passed" if self.passed else f"{len(self.problems)} problems"
        )
        for problem in self.problems[:20]:
            yield f"  PROBLEM: {problem}"


# --- the worker (a process of its own) --------------------------------------------------------


def worker(db: Path, author: str, numbers: list[str], changes: int, via: str, go: Path) -> None:
    """Wait for `go`, make `changes` status changes, print a JSON result on stdout."""
    from koordinator.core.errors import KoordinatorError
    from koordinator.core.service import Catalogue
    from koordinator.core.store.sqlite_store import DatabaseTarget, open_database

    result = WorkerResult(author)
    database = open_database(DatabaseTarget(db))
    try:
        catalogue = Catalogue(database, author=author)
        status = {
            m.number: m.status.value for m in catalogue.list_measures() if m.number in numbers
        }
        if via == "cli":  # hold no connection: each CLI process may be the last one to close
            database.close()
        (go.parent / f"ready-{author}").touch()
        while not go.exists():
            time.sleep(0.002)
        started = time.perf_counter()
        for index in range(changes):
            number = numbers[index % len(numbers)]
            target = TOGGLE[status[number]]
            note = f"{author}-{index}"
            begun = time.perf_counter()
            try:
                if via == "api":
                    catalogue.change_status(number, target, note=note)
                else:
                    _cli_change(db, author, number, target, note)
            except KoordinatorError as error:
                result.failures.append(f"{note}: {error}")
            except Exception as error:  # a bug, not a user mistake: report it, go on
                result.failures.append(f"{note}: {type(error).__name__}: {error}")
            else:
                result.done += 1
                status[number] = target
            result.latencies_ms.append((time.perf_counter() - begun) * 1000)
        result.seconds = time.perf_counter() - started
    finally:
        database.close()
    print(json.dumps(result.__dict__))


class _CliError(Exception):
    pass


def _cli_change(db: Path, author: str, number: str, target: str, note: str) -> None:
    command = [sys.executable, "-m", "koordinator", "--db", str(db), "--as", author]
    command += ["status", number, target, "--note", note]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise _CliError(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")


# --- the orchestration --------------------------------------------------------------------------


def run_concurrently(
    changes: int,
    *,
    processes: int = 2,
    via: str = "api",
    folder: Path | None = None,
    path: Path | None = None,
    timeout: float = 1800,
) -> Report:
    """Start the workers on one database (a copy of the sample in `folder`, or `path` as it
    is), release them together, collect and check."""
    report = Report(via, processes, changes)
    with tempfile.TemporaryDirectory(prefix="concurrency-") as temporary:
        work = folder or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        if path is None:
            path = work / "concurrent.db"
            _copy_sample(path)
        go = work / "go"
        for stale in (go, *work.glob("ready-*")):
            stale.unlink(missing_ok=True)
        candidates = _toggling_measures(path)
        authors = [f"prozess-{chr(ord('a') + i)}" for i in range(processes)]
        shares = {author: candidates[i::processes] for i, author in enumerate(authors)}
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--worker",
                    "--db",
                    str(path),
                    "--author",
                    author,
                    "--numbers",
                    ",".join(shares[author]),
                    "--changes",
                    str(changes),
                    "--via",
                    via,
                    "--go",
                    str(go),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for author in authors
        ]
        try:
            deadline = time.monotonic() + 120
            while not all((work / f"ready-{author}").exists() for author in authors):
                if any(process.poll() is not None for process in workers):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("workers did not get ready within 120 s")
                time.sleep(0.01)
            go.touch()
            started = time.perf_counter()
            for author, process in zip(authors, workers, strict=True):
                out, err = process.communicate(timeout=timeout)
                result = _parse(author, out)
                result.stderr, result.returncode = err, process.returncode
                report.workers.append(result)
        finally:
            for process in workers:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        report.seconds = time.perf_counter() - started
        _check(path, report, authors)
    return report


def _parse(author: str, out: str) -> WorkerResult:
    lines = out.strip().splitlines()
    try:
        data: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return WorkerResult(author, failures=[f"no result: {out[-300:]!r}"])
    return WorkerResult(**data)


def _check(path: Path, report: Report, authors: list[str]) -> None:
    for worker_result in report.workers:
        if worker_result.returncode != 0:
            report.problems.append(
                f"{worker_result.author}: exit {worker_result.returncode}: "
                f"{worker_result.stderr.strip()[-500:]}"
            )
        for failure in worker_result.failures[:10]:
            report.problems.append(f"{worker_result.author}: {failure}")
        if worker_result.done != report.changes:
            report.problems.append(
                f"{worker_result.author}: {worker_result.done} of {report.changes} changes done"
            )
    connection = sqlite3.connect(path, timeout=30)
    try:
        for author in authors:
            notes = {
                note
                for (note,) in connection.execute(
                    "SELECT note FROM history_event WHERE author = ? AND kind = 'status_changed'",
                    (author,),
                )
            }
            count = connection.execute(
                "SELECT count(*) FROM history_event WHERE author = ?", (author,)
            ).fetchone()[0]
            report.events_by_author[author] = count
            expected = {f"{author}-{index}" for index in range(report.changes)}
            if count != report.changes or notes != expected:
                missing = sorted(expected - notes)[:5]
                report.problems.append(
                    f"{author}: {count} events, expected {report.changes}; missing {missing}"
                )
    finally:
        connection.close()
    problems, measures = check_consistency(path)
    report.problems.extend(problems)
    report.measures_checked = measures


def _toggling_measures(path: Path) -> list[str]:
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = connection.execute(
            "SELECT number FROM measure WHERE status IN ('on_schedule', 'delayed') "
            "ORDER BY field_code, sequence"
        ).fetchall()
    finally:
        connection.close()
    return [number for (number,) in rows]


def _copy_sample(path: Path) -> None:
    if SAMPLE.is_file():
        shutil.copyfile(SAMPLE, path)
    else:
        from koordinator.core.store.sample import fill_sample
        from koordinator.core.store.sqlite_store import create_database

        create_database(path, fill=fill_sample)
    # Used once, as any koordinator database in use is: the journal is now WAL.
    from koordinator.core.service import Catalogue
    from koordinator.core.store.sqlite_store import DatabaseTarget, open_database

    database = open_database(DatabaseTarget(path))
    try:
        Catalogue(database, author="benchmark").fields()
    finally:
        database.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=500, help="changes per process (500)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--via", choices=("api", "cli"), default="api")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the database")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--author", help=argparse.SUPPRESS)
    parser.add_argument("--numbers", help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.db, args.author, args.numbers.split(","), args.changes, args.via, args.go)
        return 0
    report = run_concurrently(
        args.changes, processes=args.processes, via=args.via, folder=args.keep
    )
    for line in report.lines():
        print(line)
    return 0 if report.passed else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
