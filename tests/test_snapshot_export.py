"""Export: the TOML layout, determinism, atomic writing and the checks before handing over."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from koordinator.cli import main
from koordinator.core.dates import LooseDate
from koordinator.core.errors import OutputFileError
from koordinator.core.files import write_text
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import (
    FORMAT_NAME,
    FORMAT_VERSION,
    check,
    dumps,
    export_to_file,
    loads,
    prepare_export,
    snapshot_of,
)
from koordinator.core.store.sqlite_store import SqliteStore
from koordinator.core.workflow import Status
from snapshot_helpers import dump, empty_database, run, without_export_time


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_top_level_layout_and_summary_of_the_sample(database: SqliteStore) -> None:
    text = prepare_export(database, author="testerin").text
    data = tomllib.loads(text)
    assert list(data) == [
        "format",
        "version",
        "exported_at",
        "author",
        "source",
        "schema_version",
        "summary",
        "fields",
        "measures",
    ]
    assert (data["format"], data["version"]) == (FORMAT_NAME, FORMAT_VERSION)
    assert (data["author"], data["source"], data["schema_version"]) == (
        "testerin",
        "catalogue.db",
        2,
    )
    assert data["summary"] == {
        "total": 49,
        "from_catalogue": 37,
        "added": 12,
        "by_status": {
            "planning": 8,
            "on_schedule": 20,
            "delayed": 9,
            "established": 9,
            "handed_over": 2,
            "dropped": 1,
        },
        "by_field": {"1": 16, "2": 8, "3": 15, "4": 10},
    }
    assert [f["code"] for f in data["fields"]] == [1, 2, 3, 4]
    numbers = [m["number"] for m in data["measures"]]
    assert numbers.index("1.2") < numbers.index("1.10") and len(numbers) == 49


def test_every_row_and_event_is_exported_with_its_id(database: SqliteStore) -> None:
    data = tomllib.loads(prepare_export(database, author="x").text)
    counts = {
        "milestone": sum(len(m.get("milestones", [])) for m in data["measures"]),
        "delay": sum(len(m.get("delays", [])) for m in data["measures"]),
        "history_event": sum(len(m["events"]) for m in data["measures"]),
    }
    lines = dump(database.target.path)
    for table, count in counts.items():
        assert count == sum(line.startswith(f'INSERT INTO "{table}"') for line in lines) > 0
    measure = next(m for m in data["measures"] if m["number"] == "1.3")
    assert measure["delays"][0]["cause"] == "corona"
    assert "until" not in measure["delays"][0]  # none: left out, TOML has no null
    assert [e["kind"] for e in measure["events"]] == ["measure_created", "status_changed"]


def test_same_state_gives_same_bytes_apart_from_the_export_time(database: SqliteStore) -> None:
    first = snapshot_of(database, author="x", clock=fixed(datetime(2021, 1, 1, tzinfo=UTC)))
    second = snapshot_of(database, author="x", clock=fixed(datetime(2022, 5, 5, tzinfo=UTC)))
    assert dumps(first) != dumps(second)
    assert without_export_time(dumps(first)) == without_export_time(dumps(second))
    assert dumps(first) == dumps(
        snapshot_of(database, author="x", clock=fixed(datetime(2021, 1, 1, tzinfo=UTC)))
    )


def test_events_are_ordered_by_time_then_id(catalogue: Catalogue, database: SqliteStore) -> None:
    catalogue.change_status("1.11", Status.ON_SCHEDULE)
    catalogue.add_milestone("1.11", "Pilot", due=LooseDate(2021, 6))
    record = next(r for r in snapshot_of(database, author="x").measures if r.state.number == "1.11")
    assert [e.kind for e in record.events] == [
        "measure_created",
        "status_changed",
        "milestone_added",
    ]
    assert [e.order for e in record.events] == sorted(e.order for e in record.events)


def test_nulls_in_details_survive_the_trip(catalogue: Catalogue, database: SqliteStore) -> None:
    """A cleared due date is [old, null] in the database: written as {old, _null = ["new"]}."""
    milestone = catalogue.add_milestone("1.6", "Pilot", due=LooseDate(2021, 6))
    catalogue.edit_milestone("1.6", milestone.id, clear_due=True)
    text = prepare_export(database, author="x").text
    assert '_null = [\n    "new",\n]' in text
    again = loads(text, "x.toml")
    edited = next(e for r in again.measures for e in r.events if e.kind == "milestone_edited")
    assert edited.details["changes"] == {"due": ["2021-06", None]}
    assert dumps(again) == text


def test_write_creates_the_file_with_usual_permissions(tmp_path: Path) -> None:
    target = write_text(tmp_path / "s.toml", "a = 1\n").path
    assert target.read_text(encoding="utf-8") == "a = 1\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_older_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    target = tmp_path / "s.toml"
    target.write_text("old = true\n", encoding="utf-8")

    def broken_fsync(descriptor: int) -> None:
        raise failure

    monkeypatch.setattr(os, "fsync", broken_fsync)
    expected = OutputFileError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as raised:
        write_text(target, "new = true\n" * 1000)
    if expected is OutputFileError:
        assert str(raised.value) == f"{target}: kann nicht geschrieben werden (Datenträger voll)"
    assert target.read_text(encoding="utf-8") == "old = true\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]  # no temporary file left


def test_write_into_a_missing_folder_or_onto_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="existiert nicht"):
        write_text(tmp_path / "fehlt" / "s.toml", "")
    with pytest.raises(OutputFileError, match="ist ein Ordner"):
        write_text(tmp_path, "")


def test_export_to_file_returns_where_and_what(database: SqliteStore, tmp_path: Path) -> None:
    export = export_to_file(
        database, tmp_path / "k.toml", author="x", today=date(2021, 1, 2), stale_months=0
    )
    assert export.written is not None and export.written.path == tmp_path / "k.toml"
    assert export.written.path.read_text(encoding="utf-8") == export.text
    assert export.findings == ()  # the sample was current on 2020-12-31


# --- checks ------------------------------------------------------------------------------------


def findings_for(database: SqliteStore, today: date, **changes: object) -> list[str]:
    snapshot = snapshot_of(database, author="x")
    return [str(f) for f in check(snapshot, today=today, **changes)]  # type: ignore[arg-type]


def test_overdue_milestones_are_found_on_their_day(database: SqliteStore) -> None:
    # 2.2 has "Weitere Stadtteile mit öffentlichem WLAN" due 2021: overdue from 2022 on.
    assert findings_for(database, date(2021, 12, 31), stale_months=0) == []
    assert (
        "2.2: Meilenstein „Weitere Stadtteile mit öffentlichem WLAN“ überfällig (fällig 2021)"
        in findings_for(database, date(2022, 1, 1), stale_months=0)
    )


def test_stale_measures_after_more_than_n_months(database: SqliteStore) -> None:
    # Five sample measures are still "In Planung" since the catalogue of 12.03.2019; every
    # other one was last changed on 31.12.2020.
    old = findings_for(database, date(2021, 6, 30))
    assert len(old) == 5
    assert all(f.endswith("seit über 6 Monaten unverändert (zuletzt 12.03.2019)") for f in old)
    stale = findings_for(database, date(2021, 7, 1))
    assert "1.2: seit über 6 Monaten unverändert (zuletzt 31.12.2020)" in stale
    # Handed over and dropped measures are finished, not forgotten.
    assert not any(f.startswith(("1.8:", "4.10:")) for f in stale)
    assert len(stale) == 49 - 3
    assert findings_for(database, date(2021, 7, 1), stale_months=0) == []
    assert len(findings_for(database, date(2021, 2, 1), stale_months=1)) == 46
    assert len(findings_for(database, date(2021, 1, 31), stale_months=1)) == 5


def test_delay_contradicting_the_status_and_history_mismatch(database: SqliteStore) -> None:
    snapshot = snapshot_of(database, author="x")
    records = {r.state.number: r for r in snapshot.measures}
    delayed = records["1.3"]  # delayed, with an open Corona delay
    on_time = records["1.2"]
    no_delay = dataclasses.replace(delayed.state, delays={})
    stray = dataclasses.replace(on_time.state, delays=dict(delayed.state.delays))
    damaged = dataclasses.replace(
        snapshot,
        measures=(
            dataclasses.replace(on_time, state=stray),
            dataclasses.replace(delayed, state=no_delay),
        ),
    )
    found = [str(f) for f in check(damaged, today=date(2021, 1, 2))]
    delay_id = next(iter(delayed.state.delays))
    assert found == [
        "1.2: offene Verzögerung (Corona, seit 2020), aber Status „Im Zeitplan“",
        f"1.2: Stand passt nicht zum eigenen Verlauf – Verzögerung {delay_id} kommt im Verlauf "
        "nicht vor",
        "1.3: „Verzögert“, aber keine offene Verzögerung erfasst",
        f"1.3: Stand passt nicht zum eigenen Verlauf – Verzögerung {delay_id} fehlt, obwohl der "
        "Verlauf ihn anlegt",
    ]


def test_a_stored_value_that_history_does_not_explain(database: SqliteStore) -> None:
    snapshot = snapshot_of(database, author="x")
    record = snapshot.measures[0]
    edited = dataclasses.replace(record.state, status="dropped")
    damaged = dataclasses.replace(snapshot, measures=(dataclasses.replace(record, state=edited),))
    found = [str(f) for f in check(damaged, today=date(2021, 1, 2))]
    assert found == [
        "1.1: Stand passt nicht zum eigenen Verlauf – status: „dropped“, laut Verlauf „established“"
    ]


# --- the command line --------------------------------------------------------------------------


def test_cli_export_to_stdout_keeps_findings_on_stderr(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    code, out, err = run(capsys, "--db", str(sample_path), "export")
    assert code == 0
    assert tomllib.loads(out)["summary"]["total"] == 49
    assert err.startswith("Hinweise vor dem Export (")
    assert "überfällig" in err and "unverändert" in err


def test_cli_export_to_file(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    target = sample_path.parent / "stand.toml"
    code, out, _ = run(capsys, "--db", str(sample_path), "--read-only", "export", "-o", str(target))
    assert code == 0
    assert out == f"{target}: Snapshot geschrieben (49 Maßnahmen, 100 Einträge)\n"
    assert loads(target.read_text(encoding="utf-8"), str(target)).summary().total == 49


def test_cli_strict_refuses_with_findings_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    target = sample_path.parent / "stand.toml"
    target.write_text("alt\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", str(sample_path), "export", "--strict", "-o", str(target))
    assert (code, out) == (2, "")
    assert err.splitlines()[-1].startswith("koordinator: Export abgebrochen (--strict):")
    assert target.read_text(encoding="utf-8") == "alt\n"


def test_cli_strict_exports_a_clean_catalogue(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = empty_database(tmp_path / "leer.db")
    code, out, err = run(capsys, "--db", str(db), "export", "--strict")
    assert (code, err) == (0, "")
    assert tomllib.loads(out)["summary"]["total"] == 0


def test_cli_negative_stale_months(capsys: pytest.CaptureFixture[str], sample_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:  # a usage mistake, found by argparse
        main(["--db", str(sample_path), "export", "--stale-months", "-1"])
    out, err = capsys.readouterr()
    assert (exited.value.code, out) == (2, "")
    assert "--stale-months" in err


def test_help_imports_neither_tomli_w_nor_the_snapshot_core() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from koordinator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['--help'], ['export', '--help'], ['import', '--help']):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "loaded = [m for m in ('tomli_w', 'koordinator.core.snapshot', 'textual') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
