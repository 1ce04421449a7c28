"""The command line as a user meets it: commands, German output, JSON shapes, exit codes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from koordinator.cli import main
from snapshot_helpers import dump


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def show_json(capsys: pytest.CaptureFixture[str], db: Path, number: str) -> dict:
    code, out, _ = run(capsys, "--db", str(db), "show", number, "--format", "json")
    assert code == 0
    return json.loads(out)


# --- the default database and the done-criterion of the foundation ---------------------------


def test_first_start_creates_default_database_with_the_report_figures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "list", "--format", "json")
    assert code == 0, err
    listing = json.loads(out)
    assert listing["total"] == 49
    assert len(listing["measures"]) == 49
    assert listing["by_status"] == {
        "planning": 8,
        "on_schedule": 20,
        "delayed": 9,
        "established": 9,
        "handed_over": 2,
        "dropped": 1,
    }
    assert listing["by_field"] == {"1": 16, "2": 8, "3": 15, "4": 10}
    statuses = [m["status"] for m in listing["measures"]]
    assert statuses.count("established") == 9
    assert (tmp_path / "xdg-data" / "koordinator" / "koordinator.db").is_file()


def test_python_dash_m_works_in_a_fresh_process(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "KOORDINATOR_USER": "testerin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "koordinator", "list", "--status", "Verworfen"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Digitales Semesterticket" in result.stdout
    assert "1 Maßnahmen" in result.stdout


def test_flag_wins_over_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen, other = tmp_path / "chosen.db", tmp_path / "other.db"
    assert run(capsys, "init", "--empty", "--db", str(chosen))[0] == 0
    assert run(capsys, "init", "--db", str(other))[0] == 0
    monkeypatch.setenv("KOORDINATOR_DB", str(other))
    code, out, _ = run(capsys, "--db", str(chosen), "list", "--format", "json")
    assert code == 0 and json.loads(out)["total"] == 0
    code, out, _ = run(capsys, "list", "--format", "json")
    assert code == 0 and json.loads(out)["total"] == 49
    code, out, _ = run(capsys, "list", "--db", f"sqlite:///{chosen}", "--format", "json")
    assert code == 0 and json.loads(out)["total"] == 0


# --- list and show -----------------------------------------------------------------------------


def test_list_filters_and_sorts_numerically(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    code, out, _ = run(capsys, "--db", str(sample_path), "list", "--field", "1", "--format", "json")
    numbers = [m["number"] for m in json.loads(out)["measures"]]
    assert code == 0
    assert numbers[:3] == ["1.1", "1.2", "1.3"]
    assert numbers.index("1.2") < numbers.index("1.10")
    assert len(numbers) == 16
    code, out, _ = run(
        capsys, "--db", str(sample_path), "list", "--status", "in die linie übergeben"
    )
    assert code == 0
    assert "Mitarbeiterportal" in out and "Modernisierung Zuschusswesen" in out
    assert "In die Linie übergeben" in out


def test_show_text_has_all_sections(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    code, out, _ = run(capsys, "--db", str(sample_path), "show", "1.1")
    assert code == 0
    assert "Bürgerportal" in out
    assert "Etabliert" in out
    assert "SHM²" in out
    assert "[x] Liveschaltung Bürgerportal (erreicht 10/2019)" in out
    assert "Verlauf (neueste zuerst):" in out
    assert "Grundlage: Status im Bericht genannt" in out


def test_show_json_shape(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    detail = show_json(capsys, sample_path, "2.2")
    assert detail["number"] == "2.2"
    assert detail["status"] == "on_schedule" and detail["status_label"] == "Im Zeitplan"
    assert detail["next_milestone"]["title"] == "Weitere Stadtteile mit öffentlichem WLAN"
    assert detail["next_milestone"]["due"] == "2021"
    assert [m["done"] for m in detail["milestones"]] == [False, True]
    assert {e["kind"] for e in detail["history"]} >= {"measure_created", "status_changed"}
    assert set(detail) >= {"milestones", "delays", "history", "unit", "origin", "note", "revision"}


# --- changes -----------------------------------------------------------------------------------


def test_status_change_is_saved_with_author_and_note(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    code, out, _ = run(
        capsys,
        "--db",
        str(sample_path),
        "--as",
        "Alice",
        "status",
        "1.11",
        "Im Zeitplan",
        "--note",
        "Projektstart erfolgt",
    )
    assert code == 0
    assert "1.11: Status: In Planung → Im Zeitplan" in out
    detail = show_json(capsys, sample_path, "1.11")
    assert detail["status"] == "on_schedule"
    newest = detail["history"][0]
    assert (newest["author"], newest["note"], newest["from_status"], newest["to_status"]) == (
        "Alice",
        "Projektstart erfolgt",
        "planning",
        "on_schedule",
    )


def test_author_defaults_to_environment(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    assert run(capsys, "--db", str(sample_path), "status", "1.11", "on_schedule")[0] == 0
    assert show_json(capsys, sample_path, "1.11")["history"][0]["author"] == "testerin"


def test_delayed_records_the_delay(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    code, _, err = run(
        capsys,
        "--db",
        str(sample_path),
        "status",
        "3.2",
        "delayed",
        "--since",
        "03/2020",
        "--until",
        "31.12.2021",
    )
    assert code == 0, err
    detail = show_json(capsys, sample_path, "3.2")
    open_delays = [d for d in detail["delays"] if d["open"]]
    assert [(d["cause"], d["since"], d["until"]) for d in open_delays] == [
        ("corona", "2020-03", "2021-12-31")
    ]
    assert detail["open_delays"] == 1


def test_handover_and_drop_need_their_data(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    before = dump(sample_path)
    code, out, err = run(capsys, "--db", str(sample_path), "status", "1.2", "handed_over")
    assert (code, out) == (2, "")
    assert "übernehmende Dienststelle" in err and "--unit" in err
    code, _, err = run(capsys, "--db", str(sample_path), "status", "1.2", "dropped")
    assert code == 2 and "--reason" in err
    assert dump(sample_path) == before
    code, _, _ = run(
        capsys, "--db", str(sample_path), "status", "1.2", "handed_over", "--unit", "FB 20"
    )
    assert code == 0
    assert show_json(capsys, sample_path, "1.2")["history"][0]["details"] == {
        "receiving_unit": "FB 20"
    }


def test_milestone_add_and_complete(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    code, out, _ = run(
        capsys, "--db", str(sample_path), "milestone", "1.6", "Pilotbetrieb", "--due", "06/2021"
    )
    assert code == 0 and "Pilotbetrieb" in out
    detail = show_json(capsys, sample_path, "1.6")
    assert detail["next_milestone"]["title"] == "Pilotbetrieb"
    assert detail["next_milestone"]["due"] == "2021-06"
    code, out, _ = run(
        capsys, "--db", str(sample_path), "milestone", "1.6", "--complete", "--on", "30.06.2021"
    )
    assert code == 0 and "erreicht 30.06.2021" in out
    detail = show_json(capsys, sample_path, "1.6")
    assert detail["next_milestone"] is None
    assert detail["milestones"][0]["done_on"] == "2021-06-30"


def test_repeating_complete_by_title_never_ticks_another_milestone(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    db = str(sample_path)
    run(capsys, "--db", db, "milestone", "1.6", "Test", "--due", "01/2021")
    run(capsys, "--db", db, "milestone", "1.6", "Testbetrieb", "--due", "06/2021")
    code, out, _ = run(capsys, "--db", db, "milestone", "1.6", " TEST ", "--complete")
    assert code == 0 and "Test" in out
    before = dump(sample_path)
    code, out, err = run(capsys, "--db", db, "milestone", "1.6", "Test", "--complete")
    assert (code, out) == (2, "")
    assert err == (
        "koordinator: Maßnahme 1.6: offener Meilenstein „Test“ ist schon erreicht – "
        "offen: „Testbetrieb“\n"
    )
    assert dump(sample_path) == before
    detail = show_json(capsys, sample_path, "1.6")
    assert detail["next_milestone"]["title"] == "Testbetrieb"


@pytest.mark.parametrize(
    ("titles", "which", "problem"),
    [
        (["Pilot Nord", "Pilot Süd"], "Pilot", "„Pilot“ nicht gefunden"),
        (["Pilot", "pilot"], "PILOT", "„PILOT“ gibt es 2-mal"),
    ],
)
def test_complete_by_a_title_that_is_none_or_several_lists_the_open_ones(
    capsys: pytest.CaptureFixture[str],
    sample_path: Path,
    titles: list[str],
    which: str,
    problem: str,
) -> None:
    for title in titles:
        run(capsys, "--db", str(sample_path), "milestone", "1.6", title)
    before = dump(sample_path)
    code, out, err = run(capsys, "--db", str(sample_path), "milestone", "1.6", which, "--complete")
    assert (code, out) == (2, "")
    listed = ", ".join(f"„{title}“" for title in titles)
    assert err == f"koordinator: Maßnahme 1.6: offener Meilenstein {problem} – offen: {listed}\n"
    assert dump(sample_path) == before


def test_delay_log_and_resolve(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    assert run(capsys, "--db", str(sample_path), "delay", "2.3", "--cause", "Lieferengpass")[0] == 0
    detail = show_json(capsys, sample_path, "2.3")
    assert detail["status"] == "delayed"
    assert detail["delays"][0]["cause"] == "Lieferengpass"
    code, out, _ = run(
        capsys, "--db", str(sample_path), "delay", "2.3", "--resolve", "--on", "2021"
    )
    assert code == 0 and "Verzögert → Im Zeitplan" in out
    detail = show_json(capsys, sample_path, "2.3")
    assert detail["status"] == "on_schedule"
    assert detail["delays"][0]["resolved_on"] == "2021"


def test_history_lists_newest_first(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    run(capsys, "--db", str(sample_path), "status", "1.11", "on_schedule")
    run(capsys, "--db", str(sample_path), "milestone", "1.6", "Pilotbetrieb")
    code, out, _ = run(
        capsys, "--db", str(sample_path), "history", "--format", "json", "--limit", "2"
    )
    events = json.loads(out)["events"]
    assert code == 0
    assert [(e["measure"], e["kind"]) for e in events] == [
        ("1.6", "milestone_added"),
        ("1.11", "status_changed"),
    ]
    code, out, _ = run(capsys, "--db", str(sample_path), "history", "1.11")
    assert code == 0 and "testerin: Status: In Planung → Im Zeitplan" in out.splitlines()[0]


# --- errors: one line, exit code 2, database unchanged -------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["status", "9.99", "on_schedule"], "Maßnahme 9.99 gibt es nicht"),
        (["status", "1.1", "planning"], "möglich:"),
        (["status", "1.1", "fertig"], "Unbekannter Status „fertig“"),
        (["status", "3.1", "on_schedule"], "Begründung (--note)"),
        (["status", "1.2", "delayed", "--since", "2021-02-30"], "--since: „2021-02-30“"),
        (["milestone", "1.6", "X", "--due", "Ende 2024"], "--due: „Ende 2024“"),
        (["milestone", "1.6", "--complete"], "keinen offenen Meilenstein"),
        (["delay", "1.2", "--resolve"], "keine offene Verzögerung"),
        (["show", "abc"], "keine Maßnahmennummer"),
        (["--read-only", "status", "1.11", "on_schedule"], "schreibgeschützt"),
    ],
)
def test_user_mistakes_give_one_line_and_change_nothing(
    capsys: pytest.CaptureFixture[str], sample_path: Path, argv: list[str], expected: str
) -> None:
    before = dump(sample_path)
    code, out, err = run(capsys, "--db", str(sample_path), *argv)
    assert code == 2
    assert out == ""
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert dump(sample_path) == before


def test_forbidden_move_lists_allowed_moves(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    code, _, err = run(capsys, "--db", str(sample_path), "status", "1.1", "planning")
    assert code == 2
    assert "Maßnahme 1.1" in err
    assert "delayed (Verzögert)" in err and "dropped (Verworfen)" in err


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_text("just text\n"), "keine SQLite-Datenbank"),
        (lambda p: p.write_bytes(b""), "leere Datei"),
        (lambda p: p.mkdir(), "ist ein Ordner"),
        (lambda p: None, "nicht gefunden"),
    ],
)
def test_unusable_database_files_are_refused_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make, expected: str
) -> None:
    path = tmp_path / "x.db"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    code, out, err = run(capsys, "--db", str(path), "list")
    assert (code, out) == (2, "")
    assert expected in err and str(path) in err
    assert (path.read_bytes() if path.is_file() else None) == before


def test_no_traceback_from_a_real_process_on_a_foreign_database(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE kunden (id INTEGER)")
    connection.commit()
    connection.close()
    before = foreign.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "koordinator", "--db", str(foreign), "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "keine koordinator-Datenbank" in result.stderr
    assert "Traceback" not in result.stderr
    assert foreign.read_bytes() == before


# --- init ----------------------------------------------------------------------------------------


def test_init_never_overwrites_silently(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    run(capsys, "--db", str(sample_path), "status", "1.11", "on_schedule")
    before = dump(sample_path)
    code, _, err = run(capsys, "init", "--db", str(sample_path))
    assert code == 2 and "existiert bereits" in err
    assert dump(sample_path) == before
    code, _, _ = run(capsys, "init", "--empty", "--db", str(sample_path), "--overwrite")
    assert code == 0
    code, out, _ = run(capsys, "--db", str(sample_path), "list", "--format", "json")
    assert json.loads(out)["total"] == 0


def test_init_on_default_location(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "init")
    default = tmp_path / "xdg-data" / "koordinator" / "koordinator.db"
    assert code == 0 and str(default) in out
    assert run(capsys, "init")[0] == 2


# --- start-up hygiene ----------------------------------------------------------------------------


def test_cli_commands_do_not_import_textual(tmp_path: Path) -> None:
    code = (
        "import sys, contextlib, io\n"
        "from koordinator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"    assert main(['--db', {str(tmp_path / 'k.db')!r}, 'init']) == 0\n"
        f"    assert main(['--db', {str(tmp_path / 'k.db')!r}, 'list', '--format', 'json']) == 0\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_report_reads_without_sqlalchemy_and_writes_the_same_report(sample_path: Path) -> None:
    # `koordinator report` is plain SQL on sqlite3: a one-shot command without SQLAlchemy's
    # import.  Its text is the one the service's own connection gives.
    database = sample_path
    code = (
        "import sys, contextlib, io\n"
        "from koordinator.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    assert main(['--db', {str(database)!r}, 'report']) == 0\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'\n"
        "sys.stdout.write(out.getvalue())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    from koordinator.core.report import render, report_figures
    from koordinator.core.store.sqlite_store import open_database, resolve_target

    opened = open_database(resolve_target(str(database)))
    try:
        assert result.stdout == render(report_figures(opened), "text")
    finally:
        opened.close()
    assert "49 Maßnahmen" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--bogus"], "koordinator: unbekannte Angabe: --bogus"),
        (["show"], "koordinator show: es fehlt: NR"),
        (["list", "--format", "xml"], "koordinator list: --format: 'xml' gibt es nicht – möglich:"),
        (["list", "--field", "x"], "koordinator list: --field: 'x' ist keine ganze Zahl"),
        (["--db"], "koordinator: --db: erwartet einen Wert"),
        (["frobnicate"], "koordinator: BEFEHL: 'frobnicate' gibt es nicht – möglich: 'list'"),
    ],
)
def test_usage_mistakes_are_told_in_german(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.startswith(message), err
    assert err.endswith(" --help\n") and err.count("\n") == 1


def test_the_program_stops_quietly_when_its_reader_has_gone(sample_path: Path) -> None:
    """`koordinator list | head -1`: the pipe closes before the list is written."""
    program = subprocess.Popen(
        [sys.executable, "-m", "koordinator", "--db", str(sample_path), "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert program.stdout is not None and program.stderr is not None
    program.stdout.close()
    errors = program.stderr.read()
    assert (program.wait(timeout=60), errors) == (141, b"")


def test_the_program_gives_the_commands_exit_code(sample_path: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "koordinator", "--db", str(sample_path), "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (listed.returncode, listed.stdout.splitlines()[-1]) == (0, "49 Maßnahmen")
    unknown = subprocess.run(
        [sys.executable, "-m", "koordinator", "--db", str(sample_path), "show", "9.99"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert unknown.returncode == 2 and "9.99" in unknown.stderr


def test_diff_of_two_snapshots_needs_no_database(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    assert run(capsys, "--db", str(sample_path), "export", "-o", str(old))[0] == 0
    run(capsys, "--db", str(sample_path), "status", "1.11", "on_schedule")
    assert run(capsys, "--db", str(sample_path), "export", "-o", str(new))[0] == 0
    code, out, _ = run(capsys, "diff", str(old), str(new))
    assert code == 0
    assert "1.11" in out and "In Planung → Im Zeitplan" in out
    assert not (tmp_path / "xdg-data" / "koordinator" / "koordinator.db").exists()
