"""Everything that records something that happened takes a date, default today (issue 14,
item 6): `status … --on`, `new … --on`, and the days `report --stand` selects events by.

The commands run as users run them: the installed `koordinator` console script on a copy of
the committed sample.db, what they recorded read back by a second process; each database is
checked with PRAGMA integrity_check afterwards.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from koordinator.core.dates import LooseDate, local_today

KOORDINATOR = str(Path(sys.executable).with_name("koordinator"))
NO_HANG = 120  # a process that hangs fails the test instead of the run; nothing is timed

TODAY = LooseDate.from_date(local_today())
TOMORROW = LooseDate.from_date(local_today() + timedelta(days=1))


@pytest.fixture
def db(sample_path: Path) -> Path:
    """A copy of the sample database, opened once (its header as koordinator writes it)."""
    return sample_path


def koordinator(db: Path, *argv: str) -> Any:
    return subprocess.run(
        [KOORDINATOR, "--db", str(db), *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=NO_HANG,
    )


def recorded(db: Path, *argv: str) -> list[dict[str, Any]]:
    """The events a changing command printed with `--format json`."""
    done = koordinator(db, *argv, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def shown(db: Path, number: str) -> dict[str, Any]:
    """The measure as a second process reads it from the database."""
    done = koordinator(db, "show", number, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_intact(*paths: Path) -> None:
    for path in paths:
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def flat(text: str) -> str:
    return " ".join(text.split())


# --- status --on -------------------------------------------------------------------------


def test_a_move_on_another_day_is_recorded_with_it_and_shown_in_the_history(db: Path) -> None:
    (event,) = recorded(db, "status", "1.11", "on_schedule", "--on", "15.02.2021")
    assert (event["kind"], event["to_status"]) == ("status_changed", "on_schedule")
    assert event["details"]["on"] == "2021-02-15"
    assert event["summary"] == "Status: In Planung → Im Zeitplan am 15.02.2021"
    history = koordinator(db, "history", "1.11", "--limit", "1")
    assert "In Planung → Im Zeitplan am 15.02.2021" in history.stdout
    assert shown(db, "1.11")["status"] == "on_schedule"
    assert_intact(db)


def test_a_move_today_states_no_other_day(db: Path) -> None:
    (event,) = recorded(db, "status", "1.11", "on_schedule", "--on", TODAY.iso())
    assert "on" not in event["details"]
    assert " am " not in event["summary"]


def test_a_dated_delay_begins_and_is_resolved_on_the_days_of_its_moves(db: Path) -> None:
    (delayed,) = recorded(db, "status", "1.2", "delayed", "--on", "03/2021")
    assert delayed["details"]["delay"]["since"] == "2021-03"
    assert delayed["summary"].startswith("Status: Im Zeitplan → Verzögert am 03/2021")
    (resumed,) = recorded(db, "status", "1.2", "on_schedule", "--on", "2021-05-10")
    assert resumed["details"]["resolved_on"] == "2021-05-10"
    delays = shown(db, "1.2")["delays"]
    assert [(d["since"], d["resolved_on"]) for d in delays] == [("2021-03", "2021-05-10")]
    # A --since of its own still says when the delay began.
    (again,) = recorded(db, "status", "1.2", "delayed", "--on", "2021-06", "--since", "2021-04")
    assert (again["details"]["on"], again["details"]["delay"]["since"]) == ("2021-06", "2021-04")
    assert_intact(db)


def test_a_hand_over_and_a_drop_happened_on_their_day(db: Path) -> None:
    (handed,) = recorded(db, "status", "1.2", "handed_over", "--unit", "FB 20", "--on", "2021")
    assert handed["details"] == {"on": "2021", "receiving_unit": "FB 20"}
    assert handed["summary"] == "Status: Im Zeitplan → In die Linie übergeben am 2021 (an FB 20)"
    (dropped,) = recorded(db, "status", "1.3", "dropped", "--reason", "zu teuer", "--on", "4/2021")
    assert dropped["details"]["on"] == "2021-04"
    assert dropped["details"]["resolved_on"] == "2021-04"  # its open delay ended with it


# --- new --on ----------------------------------------------------------------------------


def test_a_new_measure_is_taken_up_on_the_day_given(db: Path) -> None:
    (created,) = recorded(db, "new", "1", "Digitale Bauakte", "--on", "03/2021")
    assert created["kind"] == "measure_created"
    assert created["details"]["measure"]["origin_date"] == "2021-03"
    assert created["details"]["on"] == "2021-03"
    assert created["summary"] == "Maßnahme angelegt am 03/2021 (In Planung)"
    assert shown(db, "1.17")["origin_date"] == "2021-03"
    assert "neu aufgenommen (03/2021)" in koordinator(db, "show", "1.17").stdout
    # Without --on: today, as before.
    assert koordinator(db, "new", "1", "Heute").returncode == 0
    assert shown(db, "1.18")["origin_date"] == TODAY.iso()
    assert_intact(db)


# --- a date after today ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["status", "1.2", "established", "--on", TOMORROW.german()], "Statuswechsel am"),
        (["status", "1.2", "delayed", "--on", str(TOMORROW.year + 1)], "Statuswechsel am"),
        (["new", "1", "Zukunft", "--on", TOMORROW.iso()], "aufgenommen am"),
        (["milestone", "2.2", "--complete", "--on", TOMORROW.german()], "erreicht am"),
        (["milestone", "1.2", "Start", "--done", TOMORROW.german()], "erreicht am"),
        (["delay", "1.3", "--resolve", "--on", TOMORROW.german()], "behoben am"),
    ],
    ids=["status", "status-year", "new", "milestone-complete", "milestone-done", "resolve"],
)
def test_a_date_after_today_is_refused_in_one_line_and_nothing_changes(
    db: Path, argv: list[str], what: str
) -> None:
    assert koordinator(db, "list").returncode == 0  # opened once: its header as it stays
    before = db.read_bytes()
    done = koordinator(db, *argv)
    assert (done.returncode, done.stdout) == (2, "")
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert f"{what} " in done.stderr and "liegt nach heute" in done.stderr
    assert db.read_bytes() == before


# --- the day an event happened: report --stand, snapshots ----------------------------------


def test_report_stand_selects_changes_by_the_day_they_happened(db: Path) -> None:
    assert koordinator(db, "status", "1.2", "established", "--on", "30.11.2020").returncode == 0
    assert koordinator(db, "new", "1", "Digitale Bauakte", "--on", "03/2021").returncode == 0
    assert koordinator(db, "status", "1.11", "on_schedule").returncode == 0  # today
    end_of_2020 = flat(koordinator(db, "report", "--stand", "31.12.2020").stdout)
    assert "Insgesamt 49 Maßnahmen" in end_of_2020
    assert "- 10 etabliert bzw. im Ausbau:" in end_of_2020
    assert "Open Data Portal (1.2)" in end_of_2020.split("- 19 im Zeitplan")[0]
    assert "- 8 in Planung" in end_of_2020  # 1.11 moved today, not then
    end_of_2021 = flat(koordinator(db, "report", "--stand", "31.12.2021").stdout)
    assert "Insgesamt 50 Maßnahmen: 37 aus dem Maßnahmenkatalog 2019, 13 seither neu" in (
        end_of_2021
    )
    # The whole of March 2021 is "03/2021": at its first day the measure is there.
    march = flat(koordinator(db, "report", "--stand", "01.03.2021").stdout)
    assert "Insgesamt 50 Maßnahmen" in march
    february = flat(koordinator(db, "report", "--stand", "28.02.2021").stdout)
    assert "Insgesamt 49 Maßnahmen" in february
    assert_intact(db)


def test_the_day_of_a_move_travels_with_its_snapshot(db: Path, tmp_path: Path) -> None:
    other, fresh = tmp_path / "fb12.db", tmp_path / "fresh.db"
    shutil.copyfile(db, other)
    shutil.copyfile(db, fresh)
    assert koordinator(db, "status", "1.11", "on_schedule", "--on", "15.02.2021").returncode == 0
    snapshot = tmp_path / "anna.toml"
    assert koordinator(db, "export", "-o", str(snapshot)).returncode == 0
    done = koordinator(other, "import", str(snapshot))
    assert done.returncode == 0, done.stderr
    assert "In Planung → Im Zeitplan am 15.02.2021" in koordinator(other, "history", "1.11").stdout
    stand = flat(koordinator(other, "report", "--stand", "28.02.2021").stdout)
    assert "- 21 im Zeitplan" in stand
    # A day that is no date is refused where the file says it, and nothing changes.
    text = snapshot.read_text(encoding="utf-8")
    assert text.count('on = "2021-02-15"') == 1
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('on = "2021-02-15"', 'on = "bald"'), encoding="utf-8")
    assert koordinator(fresh, "list").returncode == 0
    before = fresh.read_bytes()
    refused = koordinator(fresh, "import", str(bad))
    assert refused.returncode == 2
    assert re.search(r"bad\.toml:\d+", refused.stderr), refused.stderr
    assert len(refused.stderr.splitlines()) == 1
    assert fresh.read_bytes() == before
    assert_intact(db, other, fresh)


def test_diff_says_on_which_day_a_move_happened(db: Path, tmp_path: Path) -> None:
    old = tmp_path / "alt.toml"
    assert koordinator(db, "export", "-o", str(old)).returncode == 0
    assert koordinator(db, "status", "1.11", "on_schedule", "--on", "15.02.2021").returncode == 0
    assert koordinator(db, "status", "1.2", "established").returncode == 0
    text = koordinator(db, "diff", str(old)).stdout
    assert "Status: In Planung → Im Zeitplan (am 15.02.2021, erfasst " in text
    assert "Status: Im Zeitplan → Etabliert (am" not in text
    data = json.loads(koordinator(db, "diff", str(old), "--format", "json").stdout)
    moves = {m["number"]: m["status_moves"][0] for f in data["fields"] for m in f["measures"]}
    assert (moves["1.11"]["on"], moves["1.2"]["on"]) == ("2021-02-15", None)
