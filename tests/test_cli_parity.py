"""The command line mirrors the UI's actions: `new`, `edit`, `undo`, and `--format json` on
every command that records a change (issue 14, item 7).

The commands run as users run them: the installed `koordinator` console script on a copy of
the committed sample.db, its effect read back by a second process (`show NR --format json`);
the argument handling and the refusals in-process through `koordinator.cli.main`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from koordinator.cli import main
from koordinator.core.catalogue import open_catalogue
from test_bad_input import World, folder_state, simulate_read_only, without_new_companions

SAMPLE_DB = Path(__file__).resolve().parents[1] / "sample.db"
KOORDINATOR = str(Path(sys.executable).with_name("koordinator"))
# A process that hangs fails the test instead of the run; nothing here is timed.
NO_HANG = 120


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A copy of the committed sample.db."""
    path = tmp_path / "katalog.db"
    shutil.copyfile(SAMPLE_DB, path)
    return path


def koordinator(db: Path, *argv: str, stdin: int | None = subprocess.DEVNULL) -> Any:
    """The console script in its own process (stdin: no terminal unless given)."""
    return subprocess.run(
        [KOORDINATOR, "--db", str(db), *argv],
        stdin=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=NO_HANG,
    )


def shown(db: Path, number: str) -> dict[str, Any]:
    """The measure as a second process reads it from the database."""
    done = koordinator(db, "show", number, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


class Terminal(io.StringIO):
    """stdin as a terminal where the user types `typed`; `before_answer` runs when the
    command reads the answer (what happens while the question is on the screen)."""

    def __init__(self, typed: str, before_answer: Callable[[], None] = lambda: None) -> None:
        super().__init__(typed)
        self.before_answer = before_answer

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        self.before_answer()
        return super().readline(size)


def change_as_testerin(db: Path, number: str = "1.11", status: str = "on_schedule") -> None:
    """A change of the author the tests act as (KOORDINATOR_USER=testerin, conftest)."""
    catalogue = open_catalogue(str(db), read_only=False, author="testerin", lazy=False)
    try:
        catalogue.change_status(number, status)
    finally:
        catalogue.close()


# --- new -----------------------------------------------------------------------------------------


def test_new_prints_the_next_number_of_its_field_and_the_measure_is_there(db: Path) -> None:
    done = koordinator(db, "new", "1", "Digitale Bauakte", "--unit", "FB 60", "--note", "ab 2022")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "1.17 angelegt: Digitale Bauakte\n",
        "",
    )
    number = done.stdout.split()[0]  # what a script picks up

    measure = shown(db, number)
    assert (measure["number"], measure["field"], measure["title"]) == (
        "1.17",
        1,
        "Digitale Bauakte",
    )
    assert (measure["unit"], measure["note"], measure["status"], measure["origin"]) == (
        "FB 60",
        "ab 2022",
        "planning",
        "added",
    )
    assert [event["kind"] for event in measure["history"]] == ["measure_created"]
    assert measure["history"][0]["author"] == "testerin"
    # The next one follows it.
    assert koordinator(db, "new", "1", "Noch eine").stdout == "1.18 angelegt: Noch eine\n"


def test_new_in_an_empty_field_starts_at_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "leer.db"
    assert main(["init", "--empty", "--db", str(empty)]) == 0
    capsys.readouterr()
    assert run(capsys, empty, "new", "3", "Erste") == (0, "3.1 angelegt: Erste\n", "")


# --- edit ----------------------------------------------------------------------------------------


def test_edit_changes_title_unit_and_note_and_says_what(db: Path) -> None:
    done = koordinator(db, "edit", "1.6", "--title", "Chatbot „Mannheim fragt“", "--note", "")
    assert (done.returncode, done.stdout, done.stderr) == (0, "1.6: Geändert: Notiz, Titel\n", "")
    measure = shown(db, "1.6")
    assert (measure["title"], measure["unit"], measure["note"]) == (
        "Chatbot „Mannheim fragt“",
        "FB 33 / FB 12",
        "",
    )
    assert measure["history"][0]["details"]["changes"]["title"] == [
        "Chatbot",
        "Chatbot „Mannheim fragt“",
    ]

    assert koordinator(db, "edit", "1.6", "--unit", " FB 12 ").stdout == (
        "1.6: Geändert: Verantwortlich\n"
    )
    assert shown(db, "1.6")["unit"] == "FB 12"


def test_edit_with_the_values_already_stored_says_so_and_records_nothing(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    before = shown(db, "1.6")
    argv = ("edit", "1.6", "--title", "Chatbot", "--unit", "FB 33 / FB 12")
    assert run(capsys, db, *argv) == (0, "1.6: nichts geändert – die Angaben sind schon so\n", "")
    assert run(capsys, db, *argv, "--format", "json") == (0, "[]\n", "")
    assert shown(db, "1.6") == before


# --- undo ----------------------------------------------------------------------------------------


def test_undo_yes_undoes_the_latest_own_change(db: Path) -> None:
    assert koordinator(db, "status", "1.11", "on_schedule").returncode == 0
    assert koordinator(db, "edit", "1.6", "--title", "Chatbot 2").returncode == 0

    done = koordinator(db, "undo", "--yes")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "1.6: Rückgängig gemacht: Geändert: Titel\n",
        "",
    )
    assert shown(db, "1.6")["title"] == "Chatbot"
    assert koordinator(db, "undo", "--yes").stdout == (
        "1.11: Rückgängig gemacht: Status: In Planung → Im Zeitplan\n"
    )
    assert shown(db, "1.11")["status"] == "planning"


def test_undo_without_a_terminal_and_without_yes_refuses_and_names_the_change(db: Path) -> None:
    assert koordinator(db, "status", "1.11", "on_schedule").returncode == 0
    done = koordinator(db, "undo")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "koordinator: Maßnahme 1.11: „Status: In Planung → Im Zeitplan“ nicht rückgängig "
        "gemacht – ohne Terminal keine Rückfrage: mit --yes bestätigen\n"
    )
    assert shown(db, "1.11")["status"] == "on_schedule"


def _on_a_terminal(db: Path, typed: str, *argv: str) -> Any:
    """`koordinator undo` with a pseudo-terminal as stdin, where `typed` is typed."""
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            [KOORDINATOR, "--db", str(db), "undo", *argv],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, typed.encode())
        out, err = process.communicate(timeout=NO_HANG)
    finally:
        os.close(terminal)
        os.close(controller)
    return process.returncode, out, err


@pytest.mark.skipif(sys.platform != "linux", reason="a pseudo-terminal as stdin")
def test_undo_on_a_terminal_shows_the_change_and_asks(db: Path) -> None:
    assert koordinator(db, "status", "1.11", "on_schedule").returncode == 0

    code, out, err = _on_a_terminal(db, "\n")  # Enter: the default, no
    assert (code, out) == (0, "Nichts rückgängig gemacht.\n")
    assert re.fullmatch(
        r"Maßnahme 1\.11: Status: In Planung → Im Zeitplan \(\d\d\.\d\d\.\d{4} \d\d:\d\d, "
        r"testerin\)\nRückgängig machen\? \[j/N\] ",
        err,
    ), err
    assert shown(db, "1.11")["status"] == "on_schedule"

    code, out, err = _on_a_terminal(db, "j\n", "--format", "json")
    assert code == 0, err
    (undone,) = json.loads(out)
    assert undone["kind"] == "change_undone" and undone["measure"] == "1.11"
    assert "Rückgängig machen? [j/N]" in err  # the question on stderr, stdout stays JSON
    assert shown(db, "1.11")["status"] == "planning"


def test_undo_answered_yes_on_a_terminal(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_as_testerin(db)
    monkeypatch.setattr(sys, "stdin", Terminal("ja\n"))
    code, out, err = run(capsys, db, "undo")
    assert (code, out) == (0, "1.11: Rückgängig gemacht: Status: In Planung → Im Zeitplan\n")
    assert err.endswith("Rückgängig machen? [j/N] ")
    assert shown(db, "1.11")["status"] == "planning"


def test_undo_does_not_undo_a_change_that_arrived_while_it_asked(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_as_testerin(db, "1.11")
    # Meanwhile the same author changes 1.14 in another window: the latest change now.
    monkeypatch.setattr(sys, "stdin", Terminal("j\n", lambda: change_as_testerin(db, "1.14")))
    code, out, err = run(capsys, db, "undo")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "Rückgängig machen? [j/N] koordinator: Die letzte Änderung ist inzwischen eine andere "
        "– bitte erneut versuchen."
    )
    assert shown(db, "1.11")["status"] == "on_schedule"
    assert shown(db, "1.14")["status"] == "on_schedule"


def test_undo_with_nothing_of_ones_own_to_undo(db: Path) -> None:
    done = koordinator(db, "undo", "--yes")  # the sample's changes are FB 12's
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "koordinator: Es gibt keine eigene Änderung, die rückgängig gemacht werden kann.\n"
    )


# --- --format json: the recorded event(s) --------------------------------------------------------

_RECORDING = [
    (["new", "2", "WLAN in Bussen", "--unit", "RNV"], "2.9", "measure_created"),
    (["edit", "1.6", "--note", "neu"], "1.6", "measure_edited"),
    (["undo", "--yes"], "1.11", "change_undone"),
    (["status", "1.2", "delayed", "--since", "2021"], "1.2", "status_changed"),
    (["milestone", "1.6", "Pilotbetrieb", "--due", "06/2021"], "1.6", "milestone_added"),
    (["milestone", "2.4", "--complete", "--on", "2021"], "2.4", "milestone_completed"),
    (["delay", "1.6", "--since", "2021"], "1.6", "delay_logged"),
    (["delay", "1.3", "--resolve", "--on", "05/2021"], "1.3", "status_changed"),
]


@pytest.mark.parametrize(("argv", "number", "kind"), _RECORDING, ids=lambda v: str(v))
def test_format_json_prints_the_recorded_event_as_the_history_has_it(
    db: Path, argv: list[str], number: str, kind: str
) -> None:
    change_as_testerin(db)  # something of one's own to undo
    done = koordinator(db, *argv, "--format", "json")
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)
    assert [(event["measure"], event["kind"]) for event in events] == [(number, kind)]
    # Exactly what the database holds, read by a second process.
    assert events == shown(db, number)["history"][: len(events)]


def test_format_json_picks_the_milestones_event_when_another_was_recorded_after_it(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`milestone` returns the milestone, not its event: the event is read after the change
    from the history, where someone else's change may already stand on top."""
    from koordinator.core.service import Catalogue

    real_add = Catalogue.add_milestone

    def add_then_someone_else_changes(self: Catalogue, *args: Any, **kwargs: Any) -> Any:
        milestone = real_add(self, *args, **kwargs)
        other = open_catalogue(str(db), read_only=False, author="cem", lazy=False)
        try:
            other.edit_measure("1.6", note="Cem war schneller")
        finally:
            other.close()
        return milestone

    monkeypatch.setattr(Catalogue, "add_milestone", add_then_someone_else_changes)
    code, out, err = run(capsys, db, "milestone", "1.6", "Pilotbetrieb", "--format", "json")
    assert code == 0, err
    (event,) = json.loads(out)
    assert (event["kind"], event["author"]) == ("milestone_added", "testerin")
    assert event["details"]["milestone"]["title"] == "Pilotbetrieb"


def test_the_text_output_of_the_existing_commands_is_unchanged(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    assert run(capsys, db, "status", "1.14", "on_schedule")[1] == (
        "1.14: Status: In Planung → Im Zeitplan\n"
    )
    assert run(capsys, db, "milestone", "1.2", "Start", "--due", "2099")[1] == (
        "1.2: Meilenstein angelegt: Start (fällig 2099)\n"
    )


# --- bad input: one German line, exit 2, nothing changed ------------------------------------------

_LF, _ESC, _RLO, _CSI = "\n", "\x1b[2J", "\u202e", "\u009b"
# (arguments after --db, words the one line must hold; a tuple there: one of them)
Case = tuple[list[str], tuple[str | tuple[str, ...], ...]]
_BAD: dict[str, Case] = {
    "new: field 0": (["new", "0", "T"], ("FELD", "'0'", "zwischen 1 und 99")),
    "new: field 100": (["new", "100", "T"], ("FELD", "'100'")),
    "new: field x": (["new", "x", "T"], ("FELD", "'x'", "keine ganze Zahl")),
    "new: an unknown field": (["new", "5", "T"], ("Handlungsfeld 5 gibt es nicht", "1, 2, 3, 4")),
    "new: an empty title": (["new", "1", ""], ("Titel", "leer")),
    "new: a blank title": (["new", "1", "   "], ("Titel", "leer")),
    "new: no title": (["new", "1"], ("koordinator new", "TITEL")),
    "new: a title with a line feed": (["new", "1", f"a{_LF}b"], ("Titel", "U+000A")),
    "new: a title with a carriage return": (["new", "1", "a\rb"], ("Titel", "U+000D")),
    "new: a title with an ESC sequence": (["new", "1", f"{_ESC}x"], ("Titel", "U+001B")),
    "new: a unit with a bidi override": (
        ["new", "1", "T", "--unit", f"{_RLO}21 BF"],
        ("Verantwortlich", "U+202E"),
    ),
    "new: a note with a C1 control": (
        ["new", "1", "T", "--note", f"a{_CSI}b"],
        ("Notiz", "U+009B"),
    ),
    "new --format json: an unknown field": (
        ["new", "7", "T", "--format", "json"],
        ("Handlungsfeld 7",),
    ),
    "new --read-only": (["--read-only", "new", "1", "T"], ("schreibgeschützt", "--read-only")),
    "edit: an unknown measure": (
        ["edit", "9.99", "--title", "X"],
        ("Maßnahme 9.99 gibt es nicht",),
    ),
    "edit: not a measure number": (["edit", "drei", "--note", "x"], ("„drei“", "Maßnahmennummer")),
    "edit: nothing to change": (["edit", "1.6"], ("--title", "--unit", "--note")),
    "edit: an empty title": (["edit", "1.6", "--title", ""], ("Titel", "leer")),
    "edit: a title with a line feed": (
        ["edit", "1.6", "--title", f"a{_LF}b"],
        ("Maßnahme 1.6", "Titel", "Zeilenumbruch"),
    ),
    "edit: a unit with an ESC sequence": (
        ["edit", "1.6", "--unit", f"{_ESC}FB"],
        ("Maßnahme 1.6", "Verantwortlich", "U+001B"),
    ),
    "edit: a note with a bidi override": (
        ["edit", "1.6", "--note", f"{_RLO}x"],
        ("Maßnahme 1.6", "Notiz", "U+202E"),
    ),
    "edit --format json: an unknown measure": (
        ["edit", "9.99", "--note", "x", "--format", "json"],
        ("Maßnahme 9.99",),
    ),
    "edit --read-only": (["--read-only", "edit", "1.6", "--note", "x"], ("schreibgeschützt",)),
    "undo: nothing of one's own": (["undo", "--yes"], ("keine eigene Änderung",)),
    "undo --format json: bad format": (["undo", "--format", "xml"], ("--format", "'xml'")),
    "status --format json: an unknown measure": (
        ["status", "9.99", "on_schedule", "--format", "json"],
        ("Maßnahme 9.99 gibt es nicht",),
    ),
    "status --format json: a note with an ESC sequence": (
        ["status", "1.2", "delayed", "--note", _ESC, "--format", "json"],
        ("Maßnahme 1.2", "Notiz", "U+001B"),
    ),
    "milestone --format json: an empty title": (
        ["milestone", "1.6", "", "--format", "json"],
        ("Titel des Meilensteins",),
    ),
    "delay --format json: nothing to resolve": (
        ["delay", "1.2", "--resolve", "--format", "json"],
        ("Maßnahme 1.2", "keine offene Verzögerung"),
    ),
    "delay --read-only --format json": (
        ["--read-only", "delay", "1.2", "--format", "json"],
        ("schreibgeschützt",),
    ),
}
# Refusals with an undoable change of one's own in the database.
_BAD_WITH_A_CHANGE: dict[str, Case] = {
    "undo: no terminal, no --yes": (["undo"], ("Maßnahme 1.11", "--yes", "Terminal")),
    "undo --format json: no terminal, no --yes": (["undo", "--format", "json"], ("--yes",)),
    "undo --read-only": (["--read-only", "undo"], ("schreibgeschützt", "--read-only")),
    "undo --read-only --yes": (["--read-only", "undo", "--yes"], ("schreibgeschützt",)),
}
# Refusals on a database file that cannot be written.
_BAD_ON_A_READ_ONLY_FILE: dict[str, Case] = {
    "new: a read-only database file": (["new", "1", "T"], ("schreibgeschützt",)),
    "edit: a read-only database file": (["edit", "1.6", "--note", "x"], ("schreibgeschützt",)),
    "undo: a read-only database file": (["undo", "--yes"], ("schreibgeschützt",)),
    "status --format json: a read-only database file": (
        ["status", "1.2", "on_schedule", "--format", "json"],
        ("schreibgeschützt",),
    ),
}


def _refused_alone(
    world: World, argv: list[str], words: tuple[str | tuple[str, ...], ...], capsys: Any
) -> None:
    """The bad-input matrix's promise (test_bad_input): one line, exit 2, no file changed."""
    db = world.db  # made (and opened once) before the "before" picture
    before = folder_state(world.folder)
    capsys.readouterr()
    try:
        code = main(["--db", str(db), *argv])
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert re.match(r"koordinator( [a-z]+)?: ", err), err
    assert all(char.isprintable() for char in err.rstrip("\n")), repr(err)
    for word in words:
        choices = (word,) if isinstance(word, str) else word
        assert any(choice in err for choice in choices), f"{word!r} not in {err!r}"
    assert without_new_companions(folder_state(world.folder), before) == before


@pytest.fixture
def world(tmp_path: Path) -> World:
    folder = tmp_path / "welt"
    folder.mkdir()
    return World(folder, SAMPLE_DB)


@pytest.mark.parametrize("name", list(_BAD))
def test_bad_input(
    name: str, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal
    _refused_alone(world, *_BAD[name], capsys)


@pytest.mark.parametrize("name", list(_BAD_WITH_A_CHANGE))
def test_bad_input_with_a_change_to_undo(
    name: str, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    change_as_testerin(world.db)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    _refused_alone(world, *_BAD_WITH_A_CHANGE[name], capsys)


@pytest.mark.parametrize("name", list(_BAD_ON_A_READ_ONLY_FILE))
def test_bad_input_on_a_read_only_file(
    name: str, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    change_as_testerin(world.db)
    simulate_read_only(monkeypatch, world.db)
    _refused_alone(world, *_BAD_ON_A_READ_ONLY_FILE[name], capsys)


def test_undo_with_stdin_closed_is_no_terminal(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    change_as_testerin(world.db)
    monkeypatch.setattr(sys, "stdin", None)  # what Python has when fd 0 is closed (`<&-`)
    _refused_alone(world, ["undo"], ("--yes",), capsys)


@pytest.mark.parametrize(
    "command", [("edit", "1.1", "--note"), ("status", "1.2", "established", "--note")]
)
def test_a_byte_that_is_not_utf8_in_an_argument_is_refused_as_such(
    db: Path, command: tuple[str, ...]
) -> None:
    """A terminal in Latin-1 gives koordinator bytes that are not UTF-8 ("\\x9b"): one line
    that says so, exit 2, nothing changed (before: "Datenbank ist beschädigt")."""
    before = shown(db, "1.1"), shown(db, "1.2")
    done = subprocess.run(
        [os.fsencode(KOORDINATOR), b"--db", os.fsencode(db), *map(os.fsencode, command), b"\x9b"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=NO_HANG,
    )
    message = done.stderr.decode("utf-8", "replace").strip()
    assert done.returncode == 2, message
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "kein UTF-8-Zeichen" in message and "beschädigt" not in message
    assert (shown(db, "1.1"), shown(db, "1.2")) == before
