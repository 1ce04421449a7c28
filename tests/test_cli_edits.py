"""`milestone NR TITEL --edit/--delete` and `delay NR --edit` on the command line, as users
run them: the console script in its own process on a copy of sample.db, the effect read back
by a second one; the refusals in-process (issue 14, item 7)."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from test_bad_input import World
from test_cli_parity import Case, _refused_alone, db, koordinator, shown, world
from test_validity import copies, export, ok, sound

__all__ = ["db", "world"]  # the fixtures, used by name

PILOT = "Weitere Stadtteile mit öffentlichem WLAN"


def intact(path: Path) -> None:
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_milestone_edit_changes_it_and_says_what(db: Path) -> None:
    done = koordinator(db, "milestone", "2.2", PILOT.upper(), "--edit", "--due", "06/2022")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"2.2: Meilenstein „{PILOT}“ geändert: Termin\n"
    (milestone,) = [m for m in shown(db, "2.2")["milestones"] if m["title"] == PILOT]
    assert milestone["due"] == "2022-06"

    again = koordinator(db, "milestone", "2.2", PILOT, "--edit", "--due", "06/2022")
    assert again.stdout == "2.2: nichts geändert – die Angaben sind schon so\n"
    assert [e["kind"] for e in shown(db, "2.2")["history"][:2]] != ["milestone_edited"] * 2

    cleared = koordinator(db, "milestone", "2.2", PILOT, "--edit", "--due", "", "--title", "WLAN")
    assert cleared.stdout == "2.2: Meilenstein „WLAN“ geändert: Termin, Titel\n"
    titles = {m["title"]: m["due"] for m in shown(db, "2.2")["milestones"]}
    assert titles["WLAN"] is None
    intact(db)


def test_milestone_delete_removes_it_and_undo_brings_it_back(db: Path) -> None:
    before = shown(db, "2.2")["milestones"]
    done = koordinator(db, "milestone", "2.2", PILOT, "--delete")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"2.2: Meilenstein „{PILOT}“ gelöscht\n"
    assert [m["title"] for m in shown(db, "2.2")["milestones"]] == [
        m["title"] for m in before if m["title"] != PILOT
    ]
    undone = koordinator(db, "undo", "--yes")
    assert undone.returncode == 0, undone.stderr
    assert shown(db, "2.2")["milestones"] == before
    intact(db)


def test_delay_edit_changes_the_open_delay_and_says_what(db: Path) -> None:
    done = koordinator(
        db, "delay", "1.3", "--edit", "--cause", "Lieferengpass", "--until", "2022", "--note", "x"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1.3: Verzögerung geändert: Ursache, Notiz, bis\n"
    (delay,) = shown(db, "1.3")["delays"]
    assert (delay["cause"], delay["until"], delay["note"], delay["open"]) == (
        "Lieferengpass",
        "2022",
        "x",
        True,
    )
    opened = koordinator(db, "delay", "1.3", "--edit", delay["id"], "--until", "")
    assert opened.stdout == "1.3: Verzögerung geändert: bis\n"
    assert shown(db, "1.3")["delays"][0]["until"] is None
    same = koordinator(db, "delay", "1.3", "--edit", "--note", "x")
    assert same.stdout == "1.3: nichts geändert – die Angaben sind schon so\n"
    intact(db)


@pytest.mark.parametrize(
    ("argv", "number", "kind"),
    [
        (["milestone", "2.2", PILOT, "--edit", "--note", "n"], "2.2", "milestone_edited"),
        (["milestone", "2.2", PILOT, "--delete"], "2.2", "milestone_deleted"),
        (["delay", "1.3", "--edit", "--since", "03/2020"], "1.3", "delay_edited"),
        (["delay", "1.3", "--edit", "--until", "2022", "--cause", "P"], "1.3", "delay_edited"),
    ],
    ids=["milestone --edit", "milestone --delete", "delay --edit", "delay --edit, two fields"],
)
def test_format_json_prints_the_recorded_event(
    db: Path, argv: list[str], number: str, kind: str
) -> None:
    done = koordinator(db, *argv, "--format", "json")
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)
    assert [(event["measure"], event["kind"]) for event in events] == [(number, kind)]
    assert events == shown(db, number)["history"][:1]


def test_format_json_of_an_edit_that_changes_nothing_is_an_empty_list(db: Path) -> None:
    for argv in (
        ["milestone", "2.2", PILOT, "--edit", "--due", "2021"],
        ["delay", "1.3", "--edit", "--cause", "corona"],
    ):
        done = koordinator(db, *argv, "--format", "json")
        assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr


_ESC = "\x1b[2J"
_BAD: dict[str, Case] = {
    "milestone --edit: nothing to change": (
        ["milestone", "2.2", PILOT, "--edit"],
        ("--title", "--due", "--note"),
    ),
    "milestone --edit: which one": (["milestone", "2.2", "--edit", "--note", "x"], ("TITEL",)),
    "milestone --edit: an unknown title": (
        ["milestone", "2.2", "Gibt es nicht", "--edit", "--note", "x"],
        ("Maßnahme 2.2", "nicht gefunden", PILOT),
    ),
    "milestone --edit: an empty new title": (
        ["milestone", "2.2", PILOT, "--edit", "--title", " "],
        ("Titel", "leer"),
    ),
    "milestone --edit: a bad due date": (
        ["milestone", "2.2", PILOT, "--edit", "--due", "bald"],
        ("--due", "„bald“"),
    ),
    "milestone --edit: a note with an ESC sequence": (
        ["milestone", "2.2", PILOT, "--edit", "--note", _ESC, "--format", "json"],
        ("Maßnahme 2.2", "Notiz", "U+001B"),
    ),
    "milestone --edit with --complete": (
        ["milestone", "2.2", PILOT, "--edit", "--complete"],
        ("--complete",),
    ),
    "milestone --title without --edit": (
        ["milestone", "2.2", "Neu", "--title", "X"],
        ("--title", "--edit"),
    ),
    "milestone --delete with --due": (
        ["milestone", "2.2", PILOT, "--delete", "--due", "2022"],
        ("--delete", "--due"),
    ),
    "milestone --delete and --edit": (
        ["milestone", "2.2", PILOT, "--delete", "--edit"],
        ("--edit", "--delete", "schließen einander aus"),
    ),
    "milestone --delete: an unknown measure": (
        ["milestone", "9.99", PILOT, "--delete"],
        ("Maßnahme 9.99 gibt es nicht",),
    ),
    "milestone --delete --read-only": (
        ["--read-only", "milestone", "2.2", PILOT, "--delete"],
        ("schreibgeschützt",),
    ),
    "delay --edit: nothing to change": (
        ["delay", "1.3", "--edit"],
        ("--cause", "--since", "--until", "--note"),
    ),
    "delay --edit: no open delay": (
        ["delay", "1.2", "--edit", "--note", "x", "--format", "json"],
        ("Maßnahme 1.2", "keine offene Verzögerung"),
    ),
    "delay --edit: an unknown delay": (
        ["delay", "1.3", "--edit", "00000000-0000-4000-8000-000000000000", "--note", "x"],
        ("Maßnahme 1.3", "Verzögerung", "gibt es nicht"),
    ),
    "delay --edit: until before since": (
        ["delay", "1.3", "--edit", "--until", "2019"],
        ("„bis“", "„seit“"),
    ),
    "delay --edit: an empty cause": (
        ["delay", "1.3", "--edit", "--cause", ""],
        ("Ursache", "leer"),
    ),
    "delay --edit: a cause with an ESC sequence": (
        ["delay", "1.3", "--edit", "--cause", _ESC],
        ("Maßnahme 1.3", "Ursache", "U+001B"),
    ),
    "delay --edit with --resolve": (
        ["delay", "1.3", "--edit", "--resolve", "--note", "x"],
        ("--edit", "--resolve"),
    ),
    "delay --edit --read-only": (
        ["--read-only", "delay", "1.3", "--edit", "--note", "x"],
        ("schreibgeschützt",),
    ),
}


@pytest.mark.parametrize("name", list(_BAD))
def test_bad_input(
    name: str, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal
    _refused_alone(world, *_BAD[name], capsys)


# --- merged: an edit or a delete that meets a row the other side changed ----------------------


def test_a_delay_edit_after_the_other_side_resolved_it_is_a_conflict(tmp_path: Path) -> None:
    anna, ben, fb12 = copies(tmp_path, "anna", "ben", "fb12")
    ok(ben, "delay", "1.3", "--resolve", "--on", "02/2021")
    ok(anna, "delay", "1.3", "--edit", "--until", "2022")  # later, without seeing Ben's
    out, _ = ok(fb12, "import", str(export(ben, "ben.toml")), str(export(anna, "anna.toml")))
    assert "Nicht angewandt: Verzögerung geändert: bis (anna" in out
    assert "die Verzögerung ist schon behoben (02/2021)" in out
    (delay,) = shown(fb12, "1.3")["delays"]
    assert (delay["resolved_on"], delay["until"]) == ("2021-02", None)
    sound(anna, ben, fb12)


def test_deleting_a_milestone_the_other_side_deleted_too_is_a_conflict(tmp_path: Path) -> None:
    anna, ben = copies(tmp_path, "anna", "ben")
    ok(ben, "milestone", "2.2", PILOT, "--delete")
    ok(anna, "milestone", "2.2", PILOT, "--delete")
    out, _ = ok(anna, "import", str(export(ben, "ben.toml")))
    assert f"Nicht angewandt: Meilenstein „{PILOT}“ gelöscht (anna" in out
    ok(ben, "import", str(export(anna, "anna.toml")))
    for path in (anna, ben):
        titles = [m["title"] for m in shown(path, "2.2")["milestones"]]
        assert PILOT not in titles and len(titles) == 1, path
        listed = json.loads(ok(path, "history", "2.2", "--format", "json")[0])["events"]
        assert [e["author"] for e in listed if e["conflict"]] == ["anna"], path
    sound(anna, ben)
