"""Real processes: koordinator started as users start it, beside the command line.

The `koordinator` command of this environment runs in a pseudo-terminal (its controlling
terminal, 120x40), with its lazy start-up and the background load of the write side, next
to command-line readers and writers, a second UI, a closed terminal and SIGKILL.  The
scenarios, the driver and the checks are those of `benchmarks/processes.py` (documented:
`--rounds 20`); here each scenario runs once.  A change is confirmed when "Gespeichert" is on
the UI's screen after it, or when its command exited 0; afterwards every confirmed change
must be in the history and `PRAGMA integrity_check` must say "ok".
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="a pty as controlling terminal, /proc/locks"
)


def _benchmark(name: str) -> ModuleType:
    """A benchmark script as a module; it imports its siblings by name, as when run."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


processes = _benchmark("processes")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[processes.Lab]:
    """A fresh copy of the sample; every UI started in it is killed at the end, whatever
    happened (process group, SIGTERM then SIGKILL)."""
    lab = processes.Lab(tmp_path / "lab")
    yield lab
    lab.close()


def test_ui_keeps_its_sqlite_lock_after_the_background_load(lab: processes.Lab) -> None:
    """Closing any descriptor of the database file drops all of a process's POSIX locks;
    a UI without its SHARED lock lets the next process to close take the log away."""
    ui = lab.start_ui("anna")
    ui.painted()
    ui.save("1.2")  # an edit waits for the background load: it is done now
    holders = processes.shared_lock_holders(lab.db)  # from /proc/locks
    seen = processes.shared_lock_holder(lab.db)  # what a closing process's fcntl runs into
    assert ui.pid in holders and seen == ui.pid, (
        f"the UI (pid {ui.pid}) holds no lock on SQLite's SHARED bytes of the database after "
        f"its background load (a second process sees: {seen}); "
        f"/proc/locks on the file: {processes.proc_locks(lab.db) or 'none'}"
    )


@pytest.mark.parametrize(
    "scenario",
    [
        # UI saves; `list`; UI saves 1.11; `--as cem status 1.14 on_schedule`; q
        "ui-cli-quit",
        # two UIs save; UI 1 quits; UI 2 saves; UI 2's terminal is closed (SIGHUP)
        "two-uis-hangup",
        # UI saves; `list`; UI saves and gets SIGKILL at "Gespeichert"
        "ui-sigkill",
        # CLI status changes one after another while the UI saves four times; q
        "cli-writer-loop",
    ],
)
def test_every_confirmed_change_survives(lab: processes.Lab, scenario: str) -> None:
    result = processes.run_scenario(scenario, lab)
    print(result.summary())  # shown with -s or on failure
    assert result.confirmed, result.summary()
    assert result.passed, result.summary()
    assert result.survived == len(result.confirmed) and result.integrity_ok


# A UI with a fault: `r` (read again) raises, as a bug in any action would.  Otherwise the
# real start-up: `koordinator.cli.run`, as the console script calls it.
_BROKEN_UI = (
    "import sys\n"
    "from koordinator.tui.screens.main import MainScreen\n"
    "def broken(self):\n"
    "    raise RuntimeError('absichtlich kaputt')\n"
    "MainScreen.action_refresh = broken\n"
    "from koordinator.cli import run\n"
    "sys.exit(run())\n"
)


def test_a_crashed_ui_exits_non_zero_with_one_line_naming_its_log(lab: processes.Lab) -> None:
    ui = lab.start_ui("anna", program=[sys.executable, "-c", _BROKEN_UI])
    ui.painted()
    saved = ui.save("1.2")
    ui.terminal.send(b"r")
    ui.terminal.process.wait(timeout=30)
    ui.terminal.wait_for(lambda text: "Einzelheiten in" in text, 5)
    screen = ui.screen()
    assert ui.terminal.process.returncode == 1, screen
    assert "Traceback" not in screen, screen
    assert screen.count("unerwarteter Fehler") == 1, screen
    (log,) = (lab.work / "home" / ".local" / "state" / "koordinator").glob("crash-*.log")
    # The emulator clips the line at the terminal's width: the path as far as it shows.
    (line,) = [line for line in screen.splitlines() if "unerwarteter Fehler" in line]
    shown = line.split("Einzelheiten in ", 1)[1].strip()
    assert len(shown) > 20 and f"{log}. Bestätigte".startswith(shown), (line, log)
    assert "RuntimeError: absichtlich kaputt" in log.read_text(encoding="utf-8")
    shown = lab.command("show", saved.number, "--format", "json")
    assert f'"status": "{saved.target}"' in shown.stdout  # what was confirmed is kept


def test_a_crashed_command_exits_non_zero_with_one_line_naming_its_log(lab: processes.Lab) -> None:
    broken = (
        "import sys\n"
        "import koordinator.core.store.fast_reads as fast_reads\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('absichtlich kaputt')\n"
        "fast_reads.read_measures = broken\n"
        "from koordinator.cli import run\n"
        "sys.exit(run())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", broken, "--db", str(lab.db), "list"],
        capture_output=True,
        text=True,
        env=lab.env,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "unerwarteter Fehler" in done.stderr, done.stderr
    (log,) = (lab.work / "home" / ".local" / "state" / "koordinator").glob("crash-*.log")
    assert f"Einzelheiten in {log}." in done.stderr
    assert "RuntimeError: absichtlich kaputt" in log.read_text(encoding="utf-8")
