"""koordinator's performance, measured the way a user feels it -- one command.

    python benchmarks/measure.py [--runs 5] [--sizes sample,1000,10000] [--markdown FILE]

Run it with the Python that has koordinator installed (the project's venv).  It

1. builds the databases: the sample catalogue, and synthetic ones of 1,000 and 10,000
   measures from benchmarks/generate.py (cached in the temp folder, rebuilt when the generator
   or the schema changes);
2. starts koordinator (`python -m koordinator --db COPY`) in a real terminal -- a pty of
   120x40 that this script creates and reads -- and measures, each run on a fresh copy of
   the database:
   * the time from process start to the first paint that shows measure rows (the titles of
     the first two measures are on the screen),
   * keypress -> screen latency: `j` until the next measure's title appears in the details
     (5 presses per run), `s` until the status question offers the move, and `z`/`e` until
     "Gespeichert" is shown with the new status in the measure's row and its details,
   * peak memory (VmHWM of the app process), then quits it with `q` (killed if it hangs);
3. does the same with the baselines of benchmarks/baseline_app.py: Textual + sqlalchemy.orm
   + one label (the reference for first paint and key latency) and plain "textual hello";
4. times the command line on the largest database: `export -o`, `import` into a database
   made by `init --empty`, `report`; and `list --format json` on the sample against
   `python -c "import sqlalchemy.orm"`; plus in-process core timings for orientation.

Every number is the median of --runs runs after one warm-up run, and every row names the
baseline measured in the same run, so that the machine's speed and load largely cancel out.
The table (value, baseline, ratio, target, met) goes to stdout and, with --markdown FILE, to
a Markdown file for docs/performance.md.  Only what is visible counts: the harness reads the
screen (it keeps a small terminal emulator of Textual's output), never the app's internals.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import hashlib
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

if sys.platform != "linux":  # pragma: no cover - pty, /proc and termios are what we measure with
    raise SystemExit("benchmarks/measure.py needs Linux (pty, /proc)")

import fcntl
import termios

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

COLUMNS, LINES = 120, 40
PAINT_TIMEOUT = 90.0  # seconds until a first paint counts as "never"
KEY_TIMEOUT = 10.0  # seconds until a keypress without visible effect counts as "never"
QUIT_TIMEOUT = 10.0  # seconds for a clean exit after "q", then SIGTERM, then SIGKILL
COMMAND_TIMEOUT = 600.0  # one CLI command
CURSOR_MOVES = 5  # measured `j` presses per run
SETTLE = 0.25  # the screen is idle when nothing was written for this long

# Targets of issue 6 ("Fast at any portfolio size ...").
PAINT_TARGETS = {"sample": 1.15, "10000": 1.30}
# Issue 15 ("Speed stays"): keypress to screen at 10,000 measures, median.
CURSOR_TARGET_MS = 12.0
STATUS_TARGET_MS = 30.0
RSS_TARGET_MB = 150.0
EXPORT_TARGET_S = 1.0
IMPORT_TARGET_S = 3.0
REPORT_TARGET_S = 1.0
LIST_JSON_TARGET = 1.2

# With --screens DIR, the screen as the harness saw it at each detection (for checking).
SCREENS: list[Path] = []


def snap(terminal: Terminal, name: str) -> None:
    if SCREENS:
        folder = SCREENS[0]
        folder.mkdir(parents=True, exist_ok=True)
        number = len(list(folder.iterdir())) + 1
        (folder / f"{number:04d}-{name}.txt").write_text(terminal.screen.text(), encoding="utf-8")


# The status keys of the status dialog, for the moves that need no further input.
EASY_MOVES = {"planning": ("z", "Im Zeitplan"), "delayed": ("z", "Im Zeitplan")}
EASY_MOVES["on_schedule"] = ("e", "Etabliert")


# --- a terminal screen: enough of a VT100 for what Textual writes ---------------------------

_CSI = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])")
_TEXT = re.compile(r"[^\x00-\x1f\x7f\x1b]+")


class Screen:
    """The character cells of a terminal, fed with the program's output as it arrives.

    Textual positions every run of text absolutely (CSI row;col H) and switches auto-wrap
    off, so cursor positioning, erasing and text are all that is needed; colours and modes
    are skipped.  Everything is one cell wide (no East Asian text in koordinator).
    """

    def __init__(self, columns: int = COLUMNS, lines: int = LINES) -> None:
        self.columns, self.lines = columns, lines
        self.grid = [[" "] * columns for _ in range(lines)]
        self.row = self.col = 0
        self._pending = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        position, end = 0, len(text)
        while position < end:
            char = text[position]
            if char == "\x1b":
                consumed = self._escape(text, position)
                if consumed is None:  # an incomplete sequence: wait for the rest
                    self._pending = text[position:]
                    return
                position = consumed
            elif char == "\r":
                self.col = 0
                position += 1
            elif char == "\n":
                self.row = min(self.row + 1, self.lines - 1)
                position += 1
            elif char == "\b":
                self.col = max(self.col - 1, 0)
                position += 1
            elif char < " " or char == "\x7f":
                position += 1
            else:
                match = _TEXT.match(text, position)
                assert match is not None
                self._put(match.group())
                position = match.end()

    def _put(self, run: str) -> None:
        row, col = self.row, self.col
        if 0 <= row < self.lines and col < self.columns:
            count = min(len(run), self.columns - col)
            self.grid[row][col : col + count] = run[:count]
        self.col = min(col + len(run), self.columns - 1)

    def _escape(self, text: str, position: int) -> int | None:
        if position + 1 >= len(text):
            return None
        kind = text[position + 1]
        if kind == "[":
            match = _CSI.match(text, position)
            if match is None:
                return None if len(text) - position < 64 else position + 2
            self._csi(match.group(1), match.group(2))
            return match.end()
        if kind in "]P^_X":  # OSC / DCS / PM / APC: up to BEL or ST
            ends = [
                i for i in (text.find("\x07", position), text.find("\x1b\\", position)) if i > 0
            ]
            if not ends:
                return None
            stop = min(ends)
            return stop + (1 if text[stop] == "\x07" else 2)
        if kind in "()#%" or kind == " ":  # a designation with one more byte
            return None if position + 2 >= len(text) else position + 3
        return position + 2

    def _csi(self, parameters: str, final: str) -> None:
        if parameters.startswith("?"):
            if final in "hl" and any(p in parameters[1:].split(";") for p in ("1049", "47")):
                self._erase(0, self.lines)
            return
        numbers = (
            [int(p) if p.isdigit() else 0 for p in parameters.split(";")] if parameters else []
        )

        def arg(index: int, default: int) -> int:
            return numbers[index] if len(numbers) > index and numbers[index] else default

        if final in "Hf":
            self.row = min(arg(0, 1), self.lines) - 1
            self.col = min(arg(1, 1), self.columns) - 1
        elif final == "A":
            self.row = max(self.row - arg(0, 1), 0)
        elif final == "B":
            self.row = min(self.row + arg(0, 1), self.lines - 1)
        elif final == "C":
            self.col = min(self.col + arg(0, 1), self.columns - 1)
        elif final == "D":
            self.col = max(self.col - arg(0, 1), 0)
        elif final == "G":
            self.col = min(arg(0, 1), self.columns) - 1
        elif final == "d":
            self.row = min(arg(0, 1), self.lines) - 1
        elif final == "J":
            mode = arg(0, 0)
            if mode == 0:
                self.grid[self.row][self.col :] = [" "] * (self.columns - self.col)
                self._erase(self.row + 1, self.lines)
            elif mode == 1:
                self._erase(0, self.row)
                self.grid[self.row][: self.col + 1] = [" "] * (self.col + 1)
            else:
                self._erase(0, self.lines)
        elif final == "K":
            mode = arg(0, 0)
            line = self.grid[self.row]
            if mode == 0:
                line[self.col :] = [" "] * (self.columns - self.col)
            elif mode == 1:
                line[: self.col + 1] = [" "] * (self.col + 1)
            else:
                line[:] = [" "] * self.columns

    def _erase(self, first: int, stop: int) -> None:
        for row in range(first, stop):
            self.grid[row] = [" "] * self.columns

    def text(self) -> str:
        return "\n".join("".join(line) for line in self.grid)


# --- a program in a pty ------------------------------------------------------------------------


class Terminal:
    """One program in a fresh pty of 120x40; `started` is taken just before the spawn."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.screen = Screen()
        self.closed = False
        self.last_output = 0.0
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            # The pty becomes the controlling terminal, as in a real terminal window.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        os.set_blocking(self.master, False)

    def _read(self, timeout: float) -> float | None:
        """Wait up to `timeout` for output, read all there is; the time of the last read."""
        if self.closed:
            return None
        ready, _, _ = select.select([self.master], [], [], max(timeout, 0.0))
        if not ready:
            return None
        arrived = None
        chunks = []
        while True:
            try:
                chunk = os.read(self.master, 1 << 16)
            except BlockingIOError:
                break
            except OSError:  # EIO: the program has gone and the pty is closed
                self.closed = True
                break
            if not chunk:
                self.closed = True
                break
            arrived = time.perf_counter()
            chunks.append(chunk)
        if chunks:
            self.screen.feed(b"".join(chunks))
            self.last_output = arrived or self.last_output
        return arrived

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> float | None:
        """The moment the output that made `predicate(screen text)` true was read, or None."""
        deadline = time.perf_counter() + timeout
        if predicate(self.screen.text()):
            return self.last_output
        while not self.closed:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            arrived = self._read(remaining)
            if arrived is not None and predicate(self.screen.text()):
                return arrived
        return None

    def settle(self, quiet: float = SETTLE, timeout: float = 5.0) -> bool:
        """Read until nothing was written for `quiet` seconds (True) or `timeout` passed."""
        deadline = time.perf_counter() + timeout
        while not self.closed and time.perf_counter() < deadline:
            if self._read(quiet) is None:
                return True
        return False

    def send(self, keys: bytes) -> float:
        sent = time.perf_counter()
        os.write(self.master, keys)
        return sent

    def peak_rss_mb(self) -> float | None:
        """VmHWM of the program's process, in MB (10^6 bytes)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) * 1024 / 1e6 if match else None

    def quit(self, keys: bytes = b"q") -> bool:
        """Quit with `keys`; True if the program ended by itself within QUIT_TIMEOUT."""
        with contextlib.suppress(OSError):
            self.send(keys)
        deadline = time.perf_counter() + QUIT_TIMEOUT
        while self.process.poll() is None and time.perf_counter() < deadline:
            self._read(0.05)
        clean = self.process.poll() is not None
        self.kill()
        return clean and self.process.returncode == 0

    def hang_up(self) -> int | None:
        """Close the terminal window: the pty's master is closed, so the kernel sends SIGHUP
        to the program (the pty is its controlling terminal).  Its return code, or None if
        it had not ended within QUIT_TIMEOUT (then it is killed)."""
        os.close(self.master)
        self.master = -1  # closed: kill() must not close a descriptor that reused the number
        self.closed = True
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=QUIT_TIMEOUT)
        code = self.process.poll()
        self.kill()
        return code

    def kill(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=3)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.closed = True


# --- the databases -----------------------------------------------------------------------------


@dataclass
class Catalog:
    """A database to measure and what the harness knows of it (read through the core API)."""

    label: str  # "sample", "1000", "10000"
    path: Path
    measures: list[tuple[str, str, str]]  # (number, title, status) in the table's order
    events: int


def _fingerprint() -> str:
    digest = hashlib.sha256()
    from koordinator.core.store.sqlite_store import schema_sql

    digest.update((HERE / "generate.py").read_bytes())
    digest.update(schema_sql().encode())
    return digest.hexdigest()[:12]


def prepare_catalogs(sizes: Sequence[str], cache: Path, work: Path, seed: int) -> list[Catalog]:
    import generate
    from sqlalchemy import func, select

    from koordinator.core.service import Catalogue
    from koordinator.core.store.models import HistoryEvent
    from koordinator.core.store.sample import fill_sample
    from koordinator.core.store.sqlite_store import DatabaseTarget, create_database, open_database

    cache.mkdir(parents=True, exist_ok=True)
    catalogs = []
    for label in sizes:
        if label == "sample":
            path = work / "sample.db"
            create_database(path, fill=fill_sample, overwrite=True)
        else:
            path = cache / f"synthetic-{int(label)}-seed{seed}-{_fingerprint()}.db"
            if not path.exists():
                started = time.perf_counter()
                counts = generate.generate(path, int(label), seed=seed)
                print(
                    f"  generated {path.name}: {counts.measures} measures, {counts.events} "
                    f"events in {time.perf_counter() - started:.1f} s",
                    flush=True,
                )
        database = open_database(DatabaseTarget(path), read_only=True)
        try:
            views = Catalogue(database, author="bench").list_measures()
            with database.read() as session:
                events = session.scalar(select(func.count()).select_from(HistoryEvent)) or 0
        finally:
            database.close()
        measures = [(m.number, m.title, m.status.value) for m in views]
        catalogs.append(Catalog(label, path, measures, events))
    return catalogs


# --- one run of the app, one run of a baseline --------------------------------------------------


@dataclass
class AppRun:
    paint: float | None = None  # seconds from start to the first paint with rows
    cursor: list[float] = field(default_factory=list)  # seconds per `j`
    cursor_misses: int = 0
    dialog: float | None = None  # `s` until the dialog shows the move
    status: float | None = None  # `z`/`e` until "Gespeichert"
    rss_mb: float | None = None
    clean_exit: bool = False


def _needle(title: str, previous: str = "") -> str:
    """A piece of `title` from its start that a table cell shows and `previous` lacks."""
    for length in range(20, len(title) + 1):
        if title[:length] not in previous:
            return title[:length]
    return title


def _count(needle: str) -> Callable[[str], int]:
    return lambda text: text.count(needle)


def environment(work: Path) -> dict[str, str]:
    # No TEXTUAL_* / KOORDINATOR_* settings of the caller, and none of the PYTHON* switches
    # that change how Python runs (PYTHONDONTWRITEBYTECODE would make every start compile
    # koordinator's modules again, which no pip-installed koordinator does).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TEXTUAL", "KOORDINATOR_"))
        and not (key.startswith("PYTHON") and key != "PYTHONPATH")
    }
    env.update(
        TERM="xterm-256color",
        LANG=env.get("LANG") or "C.UTF-8",
        KOORDINATOR_CONFIG_DIR=str(work / "config"),
        KOORDINATOR_USER="bench",
        XDG_DATA_HOME=str(work / "xdg-data"),
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        COLUMNS=str(COLUMNS),
        LINES=str(LINES),
    )
    return env


def run_app(catalog: Catalog, work: Path, env: dict[str, str]) -> AppRun:
    """Start koordinator on a fresh copy, paint, move, change a status, quit."""
    run = AppRun()
    copy = work / "run" / "koordinator.db"
    copy.parent.mkdir(parents=True, exist_ok=True)
    for stale in copy.parent.glob("koordinator.db*"):
        stale.unlink()
    shutil.copyfile(catalog.path, copy)
    titles = [title for _, title, _ in catalog.measures]
    first_rows = [_needle(title) for title in titles[:2]]
    terminal = Terminal([sys.executable, "-m", "koordinator", "--db", str(copy)], env, work)
    try:
        painted = terminal.wait_for(
            lambda text: all(needle in text for needle in first_rows), PAINT_TIMEOUT
        )
        snap(terminal, f"{catalog.label}-paint")
        if painted is None:
            return run
        run.paint = painted - terminal.started
        # Cursor moves: each `j` until the next measure's title shows once more (its details).
        position = 0

        def move(timed: bool) -> bool:
            nonlocal position
            if position + 1 >= len(titles):
                return False
            needle = _needle(titles[position + 1], titles[position])
            terminal.settle()
            before = terminal.screen.text().count(needle)
            sent = terminal.send(b"j")
            shown = terminal.wait_for(lambda text: text.count(needle) > before, KEY_TIMEOUT)
            snap(terminal, f"{catalog.label}-j-{position + 1}")
            position += 1
            if timed:
                if shown is None:
                    run.cursor_misses += 1
                else:
                    run.cursor.append(shown - sent)
            return shown is not None

        for _ in range(min(CURSOR_MOVES, len(titles) - 1)):
            move(timed=True)
        # A status change on the first measure from here on whose move needs no input.
        while position < len(titles) and catalog.measures[position][2] not in EASY_MOVES:
            if not move(timed=False):
                break
        if position < len(titles) and catalog.measures[position][2] in EASY_MOVES:
            key, label = EASY_MOVES[catalog.measures[position][2]]
            terminal.settle()
            sent = terminal.send(b"s")
            option = f"[{key}] {label}"
            shown = terminal.wait_for(lambda text: option in text, KEY_TIMEOUT)
            run.dialog = None if shown is None else shown - sent
            snap(terminal, f"{catalog.label}-dialog")
            terminal.settle()
            before = terminal.screen.text().count("Gespeichert")
            needle = _needle(titles[position])

            def saved_and_shown(text: str) -> bool:
                # The confirmation, and the new status in the measure's row and its details.
                return (
                    text.count("Gespeichert") > before
                    and f"Status: {label}" in text
                    and any(needle in line and label in line for line in text.splitlines())
                )

            sent = terminal.send(key.encode())
            saved = terminal.wait_for(saved_and_shown, KEY_TIMEOUT)
            run.status = None if saved is None else saved - sent
            snap(terminal, f"{catalog.label}-saved")
        terminal.settle()
        run.rss_mb = terminal.peak_rss_mb()
    finally:
        run.clean_exit = terminal.quit()
    return run


def run_baseline(hello: bool, work: Path, env: dict[str, str]) -> AppRun:
    """The baseline app: first paint of its label, `j` until the label changed."""
    run = AppRun()
    argv = [sys.executable, str(HERE / "baseline_app.py"), *(["--hello"] if hello else [])]
    terminal = Terminal(argv, env, work)
    try:
        label = "Hallo, Textual!" if hello else "Baseline-Zeile 0"
        painted = terminal.wait_for(lambda text: label in text, PAINT_TIMEOUT)
        if painted is None:
            return run
        run.paint = painted - terminal.started
        if not hello:
            for line in range(1, CURSOR_MOVES + 1):
                terminal.settle()
                sent = terminal.send(b"j")
                wanted = f"Baseline-Zeile {line}:"
                shown = terminal.wait_for(lambda text, wanted=wanted: wanted in text, KEY_TIMEOUT)
                if shown is None:
                    run.cursor_misses += 1
                else:
                    run.cursor.append(shown - sent)
        terminal.settle()
        run.rss_mb = terminal.peak_rss_mb()
    finally:
        run.clean_exit = terminal.quit()
    return run


# --- the command line --------------------------------------------------------------------------


def time_command(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float | None:
    """Wall time of one command (output discarded); None if it failed or timed out."""
    started = time.perf_counter()
    try:
        result = subprocess.run(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"  timed out: {' '.join(argv)}", file=sys.stderr)
        return None
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()[-1:]
        print(f"  failed ({result.returncode}): {' '.join(argv)} {message}", file=sys.stderr)
        return None
    return elapsed


def _enough(values: Sequence[float | None], runs: int, target: float | None) -> bool:
    """Stop measuring a command after `runs` results, or after 3 that all take more than
    10x its target (a median of 3 is plenty to say "far from the target", and a 10,000-
    measure import far from its target would otherwise take many minutes per run)."""
    if len(values) >= runs:
        return True
    if target is None or len(values) < 3:
        return False
    return all(value is None or value > 10 * target for value in values)


def cli_timings(
    large: Catalog, sample: Catalog | None, runs: int, work: Path, env: dict[str, str]
) -> dict[str, list[float | None]]:
    """Wall times of the commands, each after one warm-up (the import after the export's)."""
    koordinator = [sys.executable, "-m", "koordinator"]
    folder = work / "cli"
    folder.mkdir(exist_ok=True)
    snapshot = folder / "stand.toml"
    export = [*koordinator, "--db", str(large.path), "export", "-o", str(snapshot)]
    report = [*koordinator, "--db", str(large.path), "report"]
    empty = folder / "leer.db"

    def import_once() -> float | None:
        for stale in folder.glob("leer.db*"):
            stale.unlink()
        if time_command([*koordinator, "init", "--empty", "--db", str(empty)], env, folder) is None:
            return None
        if not snapshot.exists():
            return None
        return time_command(
            [*koordinator, "--db", str(empty), "import", str(snapshot)], env, folder
        )

    def measure(
        name: str, once: Callable[[], float | None], target: float, *, warm_up: bool = True
    ) -> list[float | None]:
        if warm_up:
            once()
        values: list[float | None] = []
        while not _enough(values, runs, target):
            values.append(once())
            shown = "failed" if values[-1] is None else f"{values[-1]:.2f} s"
            print(f" {name} {shown};", end="", flush=True)
        return values

    timings: dict[str, list[float | None]] = {}
    timings["export"] = measure(
        "export", lambda: time_command(export, env, folder), EXPORT_TARGET_S
    )
    timings["report"] = measure(
        "report", lambda: time_command(report, env, folder), REPORT_TARGET_S
    )
    # The export and report runs before it warm the import up (same modules, same file).
    timings["import"] = measure("import", import_once, IMPORT_TARGET_S, warm_up=False)
    print(flush=True)
    timings["list_json"], timings["import_sqlalchemy"] = [], []
    if sample is not None:
        listing = [*koordinator, "--db", str(sample.path), "list", "--format", "json"]
        plain = [sys.executable, "-c", "import sqlalchemy.orm"]
        for index in range(2 * runs + 1):  # interleaved; the first pair is the warm-up
            listed = time_command(listing, env, folder)
            imported_orm = time_command(plain, env, folder)
            if index > 0:
                timings["list_json"].append(listed)
                timings["import_sqlalchemy"].append(imported_orm)
    return timings


def core_timings(large: Catalog, runs: int, work: Path) -> dict[str, list[float]]:
    """The same operations in this process, without interpreter start and imports (up to 3
    times; once if the import alone takes more than 10 s)."""
    from koordinator.core.files import write_text
    from koordinator.core.report import render, report_figures
    from koordinator.core.service import Catalogue
    from koordinator.core.snapshot import import_snapshots, prepare_export
    from koordinator.core.store.sample import fill_fields_only
    from koordinator.core.store.sqlite_store import DatabaseTarget, create_database, open_database

    folder = work / "core"
    folder.mkdir(exist_ok=True)
    timings: dict[str, list[float]] = {"export": [], "import": [], "report": []}
    for _ in range(max(1, min(runs, 3))):
        database = open_database(DatabaseTarget(large.path), read_only=True)
        try:
            started = time.perf_counter()
            export = prepare_export(database, author="bench")
            snapshot = write_text(folder / "stand.toml", export.text).path
            timings["export"].append(time.perf_counter() - started)
            started = time.perf_counter()
            render(report_figures(Catalogue(database, author="bench")), "text")
            timings["report"].append(time.perf_counter() - started)
        finally:
            database.close()
        empty = folder / "leer.db"
        for stale in folder.glob("leer.db*"):
            stale.unlink()
        create_database(empty, fill=fill_fields_only)
        target = open_database(DatabaseTarget(empty))
        try:
            started = time.perf_counter()
            import_snapshots(target, [snapshot])
            timings["import"].append(time.perf_counter() - started)
        finally:
            target.close()
        if timings["import"][-1] > 10:
            break
    return timings


# --- the table ---------------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    values: list[float]  # in the unit of the row (ms, s, MB)
    unit: str
    misses: int = 0  # runs without a result (timeout, failure)
    baseline: list[float] = field(default_factory=list)
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None  # None: no target

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def ratio(self) -> float | None:
        if not self.values or not self.baseline:
            return None
        return statistics.median(self.values) / statistics.median(self.baseline)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.0f} {unit}"


def _cells(row: Row) -> list[str]:
    spread = (
        f"{_fmt(min(row.values), row.unit)} – {_fmt(max(row.values), row.unit)}"
        if row.values
        else "–"
    )
    if row.misses:
        spread += f" ({row.misses} without result)"
    baseline = (
        f"{_fmt(statistics.median(row.baseline), row.unit)} {row.baseline_name}"
        if row.baseline
        else row.baseline_name or "–"
    )
    ratio = f"{row.ratio:.2f} ×" if row.ratio is not None else "–"
    met = {None: "–", True: "met", False: "NOT MET"}[row.met]
    if not row.values and row.target:
        met = "NOT MET (no result)"
    return [row.what, _fmt(row.median, row.unit), spread, baseline, ratio, row.target or "–", met]


HEADER = ["Measurement", "Median", "Min – max", "Baseline (median)", "Ratio", "Target", "Result"]


def text_table(rows: Sequence[Row]) -> str:
    table = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]

    def joined(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([joined(table[0]), rule, *(joined(line) for line in table[1:])])


def markdown_table(rows: Sequence[Row]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join(
        [line(HEADER), line(["---"] * len(HEADER)), *(line(_cells(row)) for row in rows)]
    )


def _ms(values: Sequence[float | None]) -> list[float]:
    return [value * 1000 for value in values if value is not None]


def _s(values: Sequence[float | None]) -> list[float]:
    return [value for value in values if value is not None]


def build_rows(
    catalogs: Sequence[Catalog],
    app_runs: dict[str, list[AppRun]],
    cli: dict[str, list[float | None]] | None,
    core: dict[str, list[float]] | None,
    large: Catalog | None,
) -> list[Row]:
    base = app_runs["baseline"]
    base_paint = _ms([r.paint for r in base])
    base_keys = _ms([k for r in base for k in r.cursor])
    base_rss = _s([r.rss_mb for r in base])
    rows = [
        Row("First paint: textual hello", _ms([r.paint for r in app_runs["hello"]]), "ms"),
        Row("First paint: baseline (Textual + sqlalchemy.orm + label)", base_paint, "ms"),
    ]
    for catalog in catalogs:
        runs = app_runs[catalog.label]
        name = "sample (49)" if catalog.label == "sample" else f"{int(catalog.label):,}"
        target = PAINT_TARGETS.get(catalog.label)
        paint = Row(
            f"First paint with rows: {name}",
            _ms([r.paint for r in runs]),
            "ms",
            misses=sum(r.paint is None for r in runs),
            baseline=base_paint,
            baseline_name="baseline",
            target=f"≤ {target:.2f} × baseline" if target else "",
        )
        if target and paint.ratio is not None:
            paint.met = paint.ratio <= target
        rows.append(paint)
    rows.append(Row("Keypress → label (baseline app, Textual floor)", base_keys, "ms"))
    for catalog in catalogs:
        runs = app_runs[catalog.label]
        name = "sample" if catalog.label == "sample" else f"{int(catalog.label):,}"
        cursor = Row(
            f"Cursor move j → details: {name}",
            _ms([k for r in runs for k in r.cursor]),
            "ms",
            misses=sum(r.cursor_misses for r in runs),
            baseline=base_keys,
            baseline_name="floor",
            target=f"≤ {CURSOR_TARGET_MS:.0f} ms",
        )
        status = Row(
            f"Status change z/e → „Gespeichert“: {name}",
            _ms([r.status for r in runs]),
            "ms",
            misses=sum(r.status is None for r in runs),
            baseline=base_keys,
            baseline_name="floor",
            target=f"≤ {STATUS_TARGET_MS:.0f} ms",
        )
        dialog = Row(
            f"Status question s: {name}",
            _ms([r.dialog for r in runs]),
            "ms",
            misses=sum(r.dialog is None for r in runs),
            baseline=base_keys,
            baseline_name="floor",
        )
        rss = Row(
            f"Peak RSS: {name}",
            _s([r.rss_mb for r in runs]),
            "MB",
            misses=sum(r.rss_mb is None for r in runs),
            baseline=base_rss,
            baseline_name="baseline app",
            target=f"≤ {RSS_TARGET_MB:.0f} MB",
        )
        for row, limit in (
            (cursor, CURSOR_TARGET_MS),
            (status, STATUS_TARGET_MS),
            (rss, RSS_TARGET_MB),
        ):
            row.met = row.median is not None and row.median <= limit and not row.misses
        rows += [cursor, dialog, status, rss]
    if cli is not None and large is not None:
        name = f"{int(large.label):,}" if large.label.isdigit() else large.label
        orm = _s(cli["import_sqlalchemy"])
        for key, label, target in (
            ("export", f"CLI export -o: {name}", EXPORT_TARGET_S),
            ("import", f"CLI import into init --empty: {name}", IMPORT_TARGET_S),
            ("report", f"CLI report: {name}", REPORT_TARGET_S),
        ):
            row = Row(
                label,
                _s(cli[key]),
                "s",
                misses=sum(v is None for v in cli[key]),
                baseline=orm,
                baseline_name="import sqlalchemy.orm",
                target=f"≤ {target:.0f} s",
            )
            row.met = row.median is not None and row.median <= target and not row.misses
            rows.append(row)
            if core is not None:
                rows.append(Row(f"  of which in the core (in-process): {key}", core[key], "s"))
        if cli["list_json"]:
            listing = Row(
                "CLI list --format json: sample",
                _ms(cli["list_json"]),
                "ms",
                misses=sum(v is None for v in cli["list_json"]),
                baseline=_ms(cli["import_sqlalchemy"]),
                baseline_name="python -c 'import sqlalchemy.orm'",
                target=f"≤ {LIST_JSON_TARGET:.2f} × baseline",
            )
            listing.met = listing.ratio is not None and listing.ratio <= LIST_JSON_TARGET
            rows.append(listing)
    return rows


def describe_machine(catalogs: Sequence[Catalog], runs: int, load_before: str) -> list[str]:
    cpu = ""
    with contextlib.suppress(OSError):
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else ""
    versions = []
    for module in ("textual", "sqlalchemy"):
        with contextlib.suppress(Exception):
            versions.append(f"{module} {__import__(module).__version__}")
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    sizes = ", ".join(
        f"{c.label}: {len(c.measures):,} measures / {c.events:,} events" for c in catalogs
    )
    load = _load()
    return [
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {os.cpu_count()} cores"
        f"{f' ({cpu})' if cpu else ''}, Python {platform.python_version()}, "
        f"{', '.join(versions)}, commit {commit or '?'}; load average {load_before} at the "
        f"start, {load} at the end (other processes make every number noisier).",
        f"Databases: {sizes}.",
        f"Terminal: a pty of {COLUMNS}×{LINES} created by the harness; medians of {runs} runs "
        "after one warm-up run; first paint = process start → the first two measures' titles "
        "on the screen; key latencies are all keypresses of all runs (5 `j` per run, the "
        "first soon after the first paint).",
    ]


def _commit(tree: Path) -> str:
    """The tree's commit (short hash), "+" if its work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head + ("+" if dirty else "")


def side_by_side(
    catalogs: Sequence[Catalog], app_runs: dict[str, list[AppRun]], against: Path
) -> str:
    """A Markdown table: first paint, `j` and a quick status change, median ms, of this
    tree and the other one, measured alternately in the same run."""
    this, other = _commit(ROOT), _commit(against)
    lines = [
        f"| measures | what | this tree ({this}) | {against.name} ({other}) | ratio | target |",
        "|---|---|---:|---:|---:|---|",
    ]
    for catalog in catalogs:
        mine, theirs = app_runs[catalog.label], app_runs[f"{catalog.label}@against"]
        for what, pick, target in (
            ("first paint", lambda runs: _ms([r.paint for r in runs]), "no slower"),
            ("`j` (cursor)", lambda runs: _ms([k for r in runs for k in r.cursor]), "≤ 12 ms"),
            ("`s` `z`/`e` (status)", lambda runs: _ms([r.status for r in runs]), "≤ 30 ms"),
        ):
            a, b = pick(mine), pick(theirs)
            if not a or not b:
                lines.append(f"| {catalog.label} | {what} | – | – | – | {target} |")
                continue
            ma, mb = statistics.median(a), statistics.median(b)
            lines.append(
                f"| {catalog.label} | {what} | {ma:.1f} | {mb:.1f} | {ma / mb:.2f} | {target} |"
            )
    return "\n".join(lines)


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


# --- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure koordinator's speed in a real terminal (see benchmarks/README.md)."
    )
    parser.add_argument("--runs", type=int, default=5, help="measured runs (after one warm-up)")
    parser.add_argument(
        "--sizes",
        default="sample,1000,10000",
        help="databases: 'sample' and/or numbers of measures (default sample,1000,10000)",
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--json", type=Path, help="also write all raw timings as JSON here")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "koordinator-benchmarks",
        help="where generated databases are kept between runs",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line timings")
    parser.add_argument(
        "--screens", type=Path, help="save the screen at every detection here (for checking)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="TREE",
        help="also run the app from another source tree (PYTHONPATH=TREE/src), alternating "
        "with this one run by run, and print both side by side (issue 15)",
    )
    args = parser.parse_args(argv)
    if args.screens:
        SCREENS.append(args.screens)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.runs < 1 or not sizes or any(s != "sample" and not s.isdigit() for s in sizes):
        parser.error("--runs must be ≥ 1 and --sizes like sample,1000,10000")
    try:
        import koordinator  # noqa: F401
    except ImportError:
        parser.error(f"{sys.executable} cannot import koordinator: run it with the project's venv")

    with tempfile.TemporaryDirectory(prefix="koordinator-bench-") as temporary:
        work = Path(temporary)
        env = environment(work)
        load_before = _load()
        print("Preparing databases ...", flush=True)
        catalogs = prepare_catalogs(sizes, args.cache, work, args.seed)
        configs: list[tuple[str, Callable[[], AppRun]]] = [
            ("hello", lambda: run_baseline(True, work, env)),
            ("baseline", lambda: run_baseline(False, work, env)),
        ]
        other = {**env, "PYTHONPATH": str(args.against.resolve() / "src")} if args.against else {}
        for catalog in catalogs:
            configs.append((catalog.label, lambda c=catalog: run_app(c, work, env)))
            if args.against:
                configs.append(
                    (f"{catalog.label}@against", lambda c=catalog: run_app(c, work, other))
                )
        app_runs: dict[str, list[AppRun]] = {name: [] for name, _ in configs}
        unclean = 0
        for round_number in range(args.runs + 1):
            what = "warm-up" if round_number == 0 else f"run {round_number}/{args.runs}"
            print(f"Terminal {what}:", end="", flush=True)
            # Interleaved, so that a slow moment of the machine hits all alike.
            for name, start in configs:
                result = start()
                unclean += not result.clean_exit
                paint = f"{result.paint * 1000:.0f} ms" if result.paint else "no paint"
                print(f" {name} {paint};", end="", flush=True)
                if round_number > 0:
                    app_runs[name].append(result)
            print(flush=True)
        large = next((c for c in reversed(catalogs) if c.label != "sample"), None)
        sample = next((c for c in catalogs if c.label == "sample"), None)
        cli = core = None
        if not args.no_cli and large is not None:
            print(f"Command line on {large.label} measures:", end="", flush=True)
            cli = cli_timings(large, sample, args.runs, work, env)
            print("In-process core timings ...", flush=True)
            core = core_timings(large, args.runs, work)
        rows = build_rows(catalogs, app_runs, cli, core, large)
        notes = describe_machine(catalogs, args.runs, load_before)
        if args.against:
            notes.append(f"Load after the runs (1/5/15 min): {_load()}.")
            side = side_by_side(catalogs, app_runs, args.against)
            print()
            print(side)
        if unclean:
            notes.append(f"{unclean} app runs did not quit cleanly with q and were killed.")
        print()
        print("\n".join(notes))
        print()
        print(text_table(rows))
        if args.markdown:
            args.markdown.write_text(
                "\n".join(f"- {note}" for note in notes)
                + "\n\n"
                + markdown_table(rows)
                + "\n"
                + (f"\n{side_by_side(catalogs, app_runs, args.against)}\n" if args.against else ""),
                encoding="utf-8",
            )
            print(f"\nMarkdown: {args.markdown}")
        if args.json:
            raw = {
                "notes": notes,
                "app": {name: [vars(run) for run in runs] for name, runs in app_runs.items()},
                "cli": cli,
                "core": core,
            }
            args.json.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
