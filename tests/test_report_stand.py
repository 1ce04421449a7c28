"""`koordinator report --stand DATUM`: the council report as it stood on a day, replayed from
the events recorded up to the end of it (issue 14, item 6)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from koordinator.cli import main
from koordinator.core.dates import LooseDate, local_today
from koordinator.core.report import compute_figures, compute_figures_as_of
from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, SqliteStore, open_database
from koordinator.core.workflow import DelayInput, Status
from snapshot_helpers import benchmark_generator

KOORDINATOR = Path(sys.executable).parent / "koordinator"

# The December 2020 figures of the council report (as tests/test_report.py asserts them).
DECEMBER_2020 = (
    "Insgesamt 49 Maßnahmen: 37 aus dem Maßnahmenkatalog 2019, 12 seither neu",
    "- 9 etabliert bzw. im Ausbau:",
    "- 20 im Zeitplan",
    "- 9 verzögert (Corona: 9)",
    "- 8 in Planung",
    "- 2 in die Linie übergeben:",
    "- 1 verworfen: Digitales Semesterticket",
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_december_2020(out: str) -> None:
    text = flat(out)
    for line in DECEMBER_2020:
        assert line in text, line
    assert "Stand: 31.12.2020 · Berichtszeitraum: 31.12.2019 bis 31.12.2020" in text


def test_the_sample_at_the_end_of_2020_gives_the_december_2020_report(sample_path: Path) -> None:
    done = subprocess.run(
        [str(KOORDINATOR), "--db", str(sample_path), "report", "--stand", "31.12.2020"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert_december_2020(done.stdout)
    rows = [line.split() for line in done.stdout.splitlines() if line[:2] in {"1 ", "2 ", "3 "}]
    assert [row[-1] for row in rows[:3]] == ["16", "8", "15"]


def test_a_change_made_today_leaves_the_report_as_of_2020_alone(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    db = ("--db", str(sample_path))
    assert run(capsys, *db, "status", "1.2", "established")[0] == 0
    assert run(capsys, *db, "new", "1", "Digitale Bauakte", "--unit", "FB 60")[0] == 0
    code, out, err = run(capsys, *db, "report", "--stand", "31.12.2020")
    assert code == 0, err
    assert_december_2020(out)
    assert "Open Data Portal (1.2)" not in flat(out).split("- 20 im Zeitplan")[0]
    assert "Digitale Bauakte" not in out
    # ISO input means the same day.
    assert run(capsys, *db, "report", "--stand", "2020-12-31")[1] == out
    code, out, _ = run(capsys, *db, "report")
    text = flat(out)
    assert code == 0
    assert "Insgesamt 50 Maßnahmen: 37 aus dem Maßnahmenkatalog 2019, 13 seither neu" in text
    assert "- 10 etabliert bzw. im Ausbau:" in text and "Open Data Portal (1.2)" in text
    assert "- 19 im Zeitplan" in text


def test_a_measure_created_after_the_day_is_not_in_its_report(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    # The sample's measures were created from 12.03.2019 on; those added since came later.
    code, out, err = run(capsys, "--db", str(sample_path), "report", "--stand", "12.03.2019")
    assert code == 0, err
    assert "Insgesamt 37 Maßnahmen: 37 aus dem Maßnahmenkatalog 2019, 0 seither neu" in flat(out)


def test_a_day_before_any_event_gives_the_empty_report(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    code, out, err = run(capsys, "--db", str(sample_path), "report", "--stand", "2018")
    assert (code, err) == (0, "")
    text = flat(out)
    assert "Stand: 31.12.2018" in text
    assert "Insgesamt 0 Maßnahmen" in text and "- 0 im Zeitplan" in text
    assert "Open Data Portal" not in text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--stand", "bald"], "--stand: „bald“"),
        (["--stand", "31.02.2020"], "--stand: „31.02.2020“"),
        (["--stand", " "], "--stand: bitte ein Datum angeben"),
        (["--stand", "31.12.2020", "--since", "stand.toml"], "--stand verträgt sich nicht"),
    ],
)
def test_a_bad_stand_gives_one_line(
    capsys: pytest.CaptureFixture[str], sample_path: Path, argv: list[str], expected: str
) -> None:
    before = sample_path.read_bytes()
    code, out, err = run(capsys, "--db", str(sample_path), "report", *argv)
    assert (code, out) == (2, "")
    assert expected in err and len(err.strip().splitlines()) == 1
    assert sample_path.read_bytes() == before


def test_the_stand_today_equals_the_report_today_after_every_kind_of_change(
    database: SqliteStore,
) -> None:
    end_of_2020 = compute_figures(database, today=date(2020, 12, 31))
    catalogue = Catalogue(database, author="testerin")
    catalogue.change_status(
        "1.2", Status.DELAYED, delay=DelayInput(cause="personal", since=LooseDate(2026, 3))
    )
    catalogue.change_status("1.3", Status.HANDED_OVER, receiving_unit="FB 20")
    catalogue.change_status("1.6", Status.ON_SCHEDULE, note="weiter")
    catalogue.add_milestone("1.4", "Start", due=LooseDate(2027, 2))
    catalogue.add_milestone("1.4", "Pilot", due=LooseDate(2026, 1))
    catalogue.add_milestone("1.4", "Vorstudie", done_on=LooseDate(2026, 6))
    catalogue.complete_milestone("1.4", "Pilot")
    catalogue.complete_milestone("1.4", "Start")
    catalogue.undo_last()
    today = local_today()
    assert compute_figures_as_of(database, today) == compute_figures(database, today=today)
    assert compute_figures_as_of(database, date(2020, 12, 31)) == end_of_2020


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteStore]:
    path = tmp_path_factory.mktemp("generated") / "katalog.db"
    benchmark_generator().generate(path, 300, seed=5)
    database = open_database(DatabaseTarget(path))
    yield database
    database.close()


def test_the_stand_today_equals_the_report_today_on_a_generated_catalogue(
    generated: SqliteStore,
) -> None:
    today = local_today()
    for period_start in (None, date(2020, 1, 1)):
        assert compute_figures_as_of(generated, today, period_start=period_start) == (
            compute_figures(generated, today=today, period_start=period_start)
        )
