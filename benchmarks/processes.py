"""Real processes: the terminal UI in a pty beside the command line, a second UI, signals.

    python benchmarks/processes.py [--rounds 20] [--doc docs/reliability.md] [--keep FOLDER]

Every scenario starts koordinator as a user does: the venv's `koordinator` command with
`--db COPY --as NAME` in a pseudo-terminal of 120x40 that is its controlling terminal
(`measure.Terminal`; TERM=xterm-256color, HOME and the XDG folders in the work folder), so
with the lazy start-up and the background load of the write side after the first paint.
Each works on a fresh copy of the sample database, beside command-line processes and a
second UI:

* `ui-cli-quit` (issue 12's reproduction): the UI saves; `list` reads; the UI saves 1.11;
  `--as cem status 1.14 on_schedule` writes; the UI quits with q;
* `two-uis-hangup`: two UIs save one change each; UI 1 quits with q; UI 2 saves again, then
  its terminal is closed (the pty's master closed: SIGHUP);
* `ui-sigkill`: the UI saves; `list` reads; the UI saves again and gets SIGKILL the moment
  "Gespeichert" is on the screen;
* `cli-writer-loop`: command-line status changes one after another (toggling measures of
  field 3) while the UI saves four changes in field 1; then q.

A change is confirmed when the UI's status line says "✓ Gespeichert: NR: A → B" after it, or
when its command exited 0.  The UI's moves are the first ones the workflow allows without
further input (`s z`, `s e`).  After the scenario, every process ended, it checks:

1. `PRAGMA integrity_check` is "ok", foreign keys, every measure equals the replay of its
   history (`crash_loop.check_consistency`);
2. every confirmed change is in `koordinator history --format json` (measure, author,
   status, note), and `koordinator list --format json` shows each changed measure with the
   status of its last confirmed change.

And after each UI's first confirmed save (its background load is done then: an edit waits
for it) whether the UI process still holds SQLite's SHARED lock on the database file
(/proc/locks: a read lock on the 510 bytes from 0x40000002, which every connection in WAL
mode holds while it is open).  POSIX locks belong to the process, and closing any descriptor
of the file drops them all; without it, the next process that closes its last connection
believes it is the only user, checkpoints, and deletes the `-wal` and `-shm` files the UI
goes on writing into.

Exit code 0 if everything passed, 1 otherwise.  tests/test_processes.py runs each scenario
once with the same code and the same checks.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crash_loop import TOGGLE, check_consistency
from measure import Terminal, environment

from koordinator.core.workflow import Status, allowed_moves, requirements
from koordinator.tui.status_keys import STATUS_KEYS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample.db"
# The console script of this Python's environment: what a user types.
KOORDINATOR = Path(sys.executable).parent / "koordinator"

PAINT_TIMEOUT = 30.0  # start until the first screen with rows
KEY_TIMEOUT = 15.0  # a key until its effect is on the screen (a save waits for the load)
COMMAND_TIMEOUT = 60.0  # one command-line process
WRITER_CHANGES = 3  # the writer loop makes at least this many changes beside the UI

# SQLite's lock bytes on the main database file (sqlite3.c, os_unix.c).  A connection in WAL
# mode holds a read lock on the SHARED range as long as it is open; a connection that closes
# and gets an exclusive lock on that range is the last one and removes the log.
PENDING_BYTE = 0x40000000
SHARED_FIRST = PENDING_BYTE + 2
SHARED_SIZE = 510
# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid.
FLOCK = "hhqqi4x"

DOC_START = "<!-- processes.py: results -->"
DOC_END = "<!-- processes.py: end -->"


class ScenarioError(Exception):
    """A step's effect did not appear in time (the message carries the screen)."""


@dataclass(frozen=True)
class Change:
    number: str
    target: str  # status code
    author: str
    note: str = ""


@dataclass
class Result:
    scenario: str
    confirmed: list[Change] = field(default_factory=list)
    survived: int = 0
    integrity_ok: bool = False
    lock_checks: int = 0
    locks_kept: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (
            f"{self.scenario}: {len(self.confirmed)} confirmed, {self.survived} survived, "
            f"integrity {'ok' if self.integrity_ok else 'NOT ok'}, UI kept its lock "
            f"{self.locks_kept} of {self.lock_checks}, {self.seconds:.1f} s"
            + "".join(f"\n  PROBLEM: {problem}" for problem in self.problems)
        )


# --- SQLite's locks, as another process sees them --------------------------------------------


def shared_lock_holder(path: Path) -> int | None:
    """The pid of a process whose lock keeps the SHARED range from being locked exclusively
    (what a closing connection tries, to learn whether it is the last one), or None."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        request = struct.pack(FLOCK, fcntl.F_WRLCK, os.SEEK_SET, SHARED_FIRST, SHARED_SIZE, 0)
        kind, _, _, _, pid = struct.unpack(FLOCK, fcntl.fcntl(descriptor, fcntl.F_GETLK, request))
    finally:
        os.close(descriptor)  # this process holds no lock on the file: nothing is dropped
    return None if kind == fcntl.F_UNLCK else pid


def proc_locks(path: Path) -> list[list[str]]:
    """The locks /proc/locks lists on `path`: [kind, advisory, READ|WRITE, pid, dev:inode,
    first byte, last byte] each (waiting requests, "->", left out)."""
    info = path.stat()
    inode = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    locks = [line.split()[1:] for line in Path("/proc/locks").read_text().splitlines()]
    return [lock for lock in locks if len(lock) == 7 and lock[4] == inode]


def shared_lock_holders(path: Path) -> set[int]:
    """The processes that hold a lock on all of SQLite's SHARED range of `path`."""
    last = SHARED_FIRST + SHARED_SIZE - 1
    return {
        int(pid)
        for _, _, _, pid, _, first, end in proc_locks(path)
        if int(first) <= SHARED_FIRST and (end == "EOF" or int(end) >= last)
    }


# --- the processes ---------------------------------------------------------------------------


class Lab:
    """One scenario's database, environment and processes; `close` ends every process."""

    def __init__(self, work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.db = work / "r.db"
        for stale in work.glob("r.db*"):
            stale.unlink()
        shutil.copyfile(SAMPLE, self.db)
        home = work / "home"
        home.mkdir(exist_ok=True)
        self.env = {**environment(work), "HOME": str(home)}
        self.env.pop("KOORDINATOR_USER", None)  # every process says who it is (--as)
        connection = sqlite3.connect(self.db)
        try:
            rows = connection.execute(
                "SELECT number, status FROM measure ORDER BY field_code, sequence"
            ).fetchall()
        finally:
            connection.close()
        self.numbers = [number for number, _ in rows]  # the table's order at start
        self.status: dict[str, str] = dict(rows)  # as it is after the confirmed changes
        self.confirmed: list[Change] = []
        self.lock_checks = self.locks_kept = 0
        self.problems: list[str] = []
        self.uis: list[UI] = []

    def start_ui(self, author: str, program: Sequence[str] = (str(KOORDINATOR),)) -> UI:
        ui = UI(self, author, program)
        self.uis.append(ui)
        return ui

    def command(self, *args: str, author: str = "cem") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KOORDINATOR), "--db", str(self.db), "--as", author, *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.work,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def read(self, *args: str) -> None:
        """A command that only reads; it must succeed."""
        done = self.command(*args)
        if done.returncode != 0:
            raise ScenarioError(f"{' '.join(args)}: exit {done.returncode}: {done.stderr[-300:]}")

    def change_status(self, number: str, target: str, note: str, author: str = "cem") -> bool:
        """A status change by the command line; confirmed when it exited 0."""
        done = self.command("status", number, target, "--note", note, author=author)
        if done.returncode != 0:
            self.problems.append(
                f"status {number} {target}: exit {done.returncode}: {done.stderr.strip()[-300:]}"
            )
            return False
        self.confirm(Change(number, target, author, note))
        return True

    def confirm(self, change: Change) -> None:
        self.confirmed.append(change)
        self.status[change.number] = change.target

    def check_lock(self, ui: UI) -> None:
        """The UI, its write side loaded, still holds its SHARED lock on the database."""
        self.lock_checks += 1
        if ui.pid in shared_lock_holders(self.db):
            self.locks_kept += 1
            return
        self.problems.append(
            f"UI {ui.author} (pid {ui.pid}) holds no SHARED lock on the database after its "
            f"background load; /proc/locks on the file: {proc_locks(self.db) or 'none'}"
        )

    def close(self) -> None:
        for ui in self.uis:
            ui.terminal.kill()


class UI:
    """`koordinator --db DB --as AUTHOR` in its own pty, and the keys a user presses."""

    def __init__(self, lab: Lab, author: str, program: Sequence[str]) -> None:
        self.lab = lab
        self.author = author
        self.terminal = Terminal([*program, "--db", str(lab.db), "--as", author], lab.env, lab.work)
        self.position = 0  # the highlighted row: the list starts at its first measure

    @property
    def pid(self) -> int:
        return self.terminal.process.pid

    def _wait(self, what: str, predicate: Callable[[str], bool], timeout: float) -> str:
        if self.terminal.wait_for(predicate, timeout) is None:
            raise ScenarioError(
                f"UI {self.author}: no {what} within {timeout:.0f} s "
                f"(exit code {self.terminal.process.poll()}); the screen:\n{self.screen()}"
            )
        return self.screen()

    def screen(self) -> str:
        return self.terminal.screen.text()

    def painted(self) -> None:
        first = self.lab.numbers[0]
        self._wait(
            "first paint",
            lambda text: "Maßnahmen (" in text and f" {first}  " in text and "Status: " in text,
            PAINT_TIMEOUT,
        )

    def save(self, number: str) -> Change:
        """Go to `number`, press `s` and the letter of the first move that needs no further
        input; confirmed when "Gespeichert" says so."""
        current = Status(self.lab.status[number])
        target = next(m for m in allowed_moves(current) if not requirements(current, m).anything)
        steps = self.lab.numbers.index(number) - self.position
        self.terminal.send((b"j" if steps > 0 else b"k") * abs(steps) + b"s")
        self.position += steps
        question = f"Status {number} „{current.label}“ →"
        self._wait(f"question {question!r}", lambda text: question in text, KEY_TIMEOUT)
        self.terminal.send(STATUS_KEYS[target].encode())
        saved = f"Gespeichert: {number}: {current.label} → {target.label}"
        screen = self._wait(
            f"{saved!r}", lambda text: saved in text or "Nicht gespeichert" in text, KEY_TIMEOUT
        )
        if saved not in screen:
            raise ScenarioError(f"UI {self.author}: {number} not saved; the screen:\n{screen}")
        change = Change(number, target.value, self.author)
        self.lab.confirm(change)
        return change

    def quit(self) -> None:
        if not self.terminal.quit():
            raise ScenarioError(
                f"UI {self.author}: q did not end it cleanly (exit code "
                f"{self.terminal.process.returncode}); the screen:\n{self.screen()}"
            )

    def hang_up(self) -> int | None:
        return self.terminal.hang_up()

    def sigkill(self) -> None:
        os.killpg(self.pid, signal.SIGKILL)
        self.terminal.kill()


class Writer(threading.Thread):
    """Command-line status changes one after another until stopped (at least `least`)."""

    def __init__(self, lab: Lab, numbers: list[str], least: int = WRITER_CHANGES) -> None:
        super().__init__(daemon=True)
        self.lab, self.numbers, self.least = lab, numbers, least
        self.stopping = threading.Event()
        self.done = 0
        self._changed = threading.Condition()

    def run(self) -> None:
        index = 0
        try:
            while self.done < self.least or not self.stopping.is_set():
                number = self.numbers[index % len(self.numbers)]
                target = TOGGLE[self.lab.status[number]]
                if self.lab.change_status(number, target, note=f"writer-{index}"):
                    with self._changed:
                        self.done += 1
                        self._changed.notify_all()
                index += 1
        except subprocess.TimeoutExpired as error:
            self.lab.problems.append(f"writer-{index}: no exit within {error.timeout:.0f} s")

    def wait_past(self, count: int) -> None:
        """Until more than `count` changes are done: one more process ended after now."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.done > count, COMMAND_TIMEOUT):
                raise ScenarioError(f"the writer loop made no change after its {count}th")

    def stop(self) -> None:
        """Let the change under way finish (and the least number be reached)."""
        self.stopping.set()
        self.join(COMMAND_TIMEOUT * (self.least + 1))


# --- the scenarios ---------------------------------------------------------------------------


def ui_cli_quit(lab: Lab) -> None:
    ui = lab.start_ui("anna")
    ui.painted()
    ui.save("1.2")  # an edit waits for the background load: it is done now
    lab.check_lock(ui)
    lab.read("list")
    ui.save("1.11")
    lab.change_status("1.14", "on_schedule", note="cli-1.14")
    ui.quit()


def two_uis_hangup(lab: Lab) -> None:
    first, second = lab.start_ui("anna"), lab.start_ui("ben")
    first.painted()
    second.painted()
    first.save("1.2")
    second.save("1.3")
    lab.check_lock(first)
    first.quit()
    lab.check_lock(second)
    second.save("1.4")
    code = second.hang_up()
    if code is None:
        raise ScenarioError("UI ben: did not end when its terminal was closed")


def ui_sigkill(lab: Lab) -> None:
    ui = lab.start_ui("anna")
    ui.painted()
    ui.save("1.2")
    lab.check_lock(ui)
    lab.read("list")
    ui.save("1.3")
    ui.sigkill()


def cli_writer_loop(lab: Lab) -> None:
    ui = lab.start_ui("anna")
    ui.painted()
    ui.save("1.2")
    lab.check_lock(ui)
    toggling = [n for n in lab.numbers if n.startswith("3.") and lab.status[n] in TOGGLE]
    writer = Writer(lab, toggling[:3])
    writer.start()
    try:
        for number in ("1.3", "1.4", "1.6", "1.11"):
            before = writer.done
            ui.save(number)
            # A command that ends after the save: as the last connection it would
            # checkpoint and remove the log, if the UI's lock did not stop it.
            writer.wait_past(before)
    finally:
        writer.stop()
    lab.check_lock(ui)
    ui.quit()


SCENARIOS: dict[str, Callable[[Lab], None]] = {
    "ui-cli-quit": ui_cli_quit,
    "two-uis-hangup": two_uis_hangup,
    "ui-sigkill": ui_sigkill,
    "cli-writer-loop": cli_writer_loop,
}

DESCRIPTIONS = {
    "ui-cli-quit": "UI saves, `list`, UI saves, CLI `status`, UI quits (q)",
    "two-uis-hangup": "two UIs save, UI 1 quits, UI 2 saves, UI 2's terminal closed (SIGHUP)",
    "ui-sigkill": "UI saves, `list`, UI saves, SIGKILL at „Gespeichert“",
    "cli-writer-loop": "CLI status changes in a loop while the UI saves 4 changes, then q",
}


# --- the checks ------------------------------------------------------------------------------


def verify(lab: Lab, result: Result) -> None:
    """Integrity and replay; every confirmed change in the history, and the final states."""
    integrity = integrity_check(lab.db)
    result.integrity_ok = integrity == ["ok"]
    if not result.integrity_ok:
        result.problems.append(f"integrity_check: {'; '.join(integrity[:3])}")
    try:
        problems, _ = check_consistency(lab.db)
    except Exception as error:  # a damaged file can fail the replay's reads outright
        problems = [f"replay check failed: {type(error).__name__}: {error}"]
    result.problems.extend(p for p in problems if not p.startswith("integrity_check"))
    history = lab.command("history", "--format", "json")
    listing = lab.command("list", "--format", "json")
    if history.returncode != 0 or listing.returncode != 0:
        result.problems.append(
            f"history/list exit {history.returncode}/{listing.returncode}: "
            f"{(history.stderr + listing.stderr).strip()[-300:]}"
        )
        return
    found = Counter(
        Change(event["measure"], event["to_status"], event["author"], event["note"])
        for event in json.loads(history.stdout)["events"]
        if event["kind"] == "status_changed"
    )
    expected = Counter(result.confirmed)
    result.survived = sum(min(count, found[change]) for change, count in expected.items())
    for change, count in expected.items():
        if found[change] < count:
            result.problems.append(
                f"confirmed change lost: {change.number} -> {change.target} by {change.author}"
                + (f" ({change.note})" if change.note else "")
            )
    shown = {m["number"]: m["status"] for m in json.loads(listing.stdout)["measures"]}
    for number in dict.fromkeys(change.number for change in result.confirmed):
        if shown.get(number) != lab.status[number]:
            result.problems.append(
                f"{number}: status {shown.get(number)}, its last confirmed change was "
                f"{lab.status[number]}"
            )


def integrity_check(path: Path) -> list[str]:
    try:
        connection = sqlite3.connect(path, timeout=30)
        try:
            return [row[0] for row in connection.execute("PRAGMA integrity_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return [f"{type(error).__name__}: {error}"]


def run_scenario(name: str, lab: Lab) -> Result:
    """Run a scenario in `lab`, end its processes, check."""
    started = time.perf_counter()
    result = Result(name)
    try:
        SCENARIOS[name](lab)
    except (ScenarioError, subprocess.TimeoutExpired) as error:
        result.problems.append(str(error))
    finally:
        lab.close()
        result.confirmed = list(lab.confirmed)
        result.lock_checks, result.locks_kept = lab.lock_checks, lab.locks_kept
        result.problems.extend(lab.problems)
    verify(lab, result)
    result.seconds = time.perf_counter() - started
    return result


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class Totals:
    scenario: str
    rounds: int = 0
    confirmed: int = 0
    survived: int = 0
    integrity_ok: int = 0
    lock_checks: int = 0
    locks_kept: int = 0
    failed_rounds: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.rounds += 1
        self.confirmed += len(result.confirmed)
        self.survived += result.survived
        self.integrity_ok += result.integrity_ok
        self.lock_checks += result.lock_checks
        self.locks_kept += result.locks_kept
        self.failed_rounds += not result.passed
        self.seconds += result.seconds
        self.problems.extend(f"round {self.rounds}: {p}" for p in result.problems)


def markdown(totals: Iterable[Totals], rounds: int, seconds: float) -> str:
    lines = [
        f"Measured {datetime.now().astimezone():%Y-%m-%d} on commit {_commit()}, "
        f"{rounds} rounds, {seconds:.0f} s (`python benchmarks/processes.py --rounds {rounds}`):",
        "",
        "| scenario | rounds | confirmed changes | survived | integrity ok | UI kept its lock "
        "| rounds failed |",
        "|---|---|---|---|---|---|---|",
    ]
    for total in totals:
        lines.append(
            f"| {DESCRIPTIONS[total.scenario]} | {total.rounds} | {total.confirmed} "
            f"| **{total.survived}** | **{total.integrity_ok} of {total.rounds}** "
            f"| {total.locks_kept} of {total.lock_checks} | {total.failed_rounds} |"
        )
    return "\n".join(lines)


def write_into(doc: Path, table: str) -> None:
    """Replace the results between the markers in `doc` (they must be there)."""
    text = doc.read_text(encoding="utf-8")
    start, end = text.find(DOC_START), text.find(DOC_END)
    if start < 0 or end < start:
        raise SystemExit(f"{doc}: the markers {DOC_START} ... {DOC_END} are missing")
    doc.write_text(
        text[: start + len(DOC_START)] + "\n" + table + "\n" + text[end:], encoding="utf-8"
    )


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds of every scenario (20)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="which, comma-separated")
    parser.add_argument("--doc", type=Path, help="write the table into this file's results")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the databases")
    args = parser.parse_args(argv)
    names = args.scenarios.split(",")
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    totals = {name: Totals(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="processes-") as temporary:
        work = args.keep or Path(temporary)
        for round_ in range(1, args.rounds + 1):
            for name in names:  # interleaved: a busy moment of the machine hits all alike
                result = run_scenario(name, Lab(work / name))
                totals[name].add(result)
                print(f"round {round_}: {result.summary()}", flush=True)
    seconds = time.perf_counter() - started
    table = markdown(totals.values(), args.rounds, seconds)
    print()
    print(table)
    for total in totals.values():
        for problem in total.problems[:10]:
            print(f"PROBLEM {total.scenario}: {problem}")
    if args.doc:
        write_into(args.doc, table)
    return 0 if all(not total.problems for total in totals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
