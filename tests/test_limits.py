"""Limits a snapshot and the catalogue keep (issue 14): measure numbers stay below F.1000,
and an import refuses events dated more than a day after the importing machine's clock.

Each case writes its snapshot with `koordinator export`, edits the text to the hostile value
and runs the real command in a fresh process: exit 2, one line naming FILE:LINE, and the
database byte for byte as before.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from koordinator.core.dates import timestamp
from koordinator.core.errors import SnapshotError
from koordinator.core.snapshot import import_snapshots
from snapshot_helpers import line_of, opened

# --- running koordinator as a user does -------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]  # the `koordinator` fixture: run(*argv) -> Result


@pytest.fixture
def koordinator(tmp_path: Path) -> Run:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "KOORDINATOR_USER": "anna",
    }

    def run(*argv: str | Path) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "koordinator", *map(str, argv)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


def ok(result: Result) -> str:
    assert result.code == 0, result.err
    return result.out


def empty_database(koordinator: Run, path: Path) -> Path:
    ok(koordinator("init", "--empty", "--db", path))
    return path


def one_measure_export(koordinator: Run, folder: Path, field: int, title: str) -> Path:
    """`koordinator export` of a database holding one new measure, F.1 `title`."""
    folder.mkdir()
    database = empty_database(koordinator, folder / "quelle.db")
    ok(koordinator("--db", database, "new", str(field), title))
    path = folder / "stand.toml"
    ok(koordinator("--db", database, "export", "-o", path))
    return path


def edited(path: Path, old: str, new: str, *, count: int) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, (old, text)
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def picture(koordinator: Run, database: Path) -> tuple[bytes, str]:
    """What a user could compare: the file's bytes and what `koordinator list` shows."""
    listed = ok(koordinator("--db", database, "list", "--format", "json"))
    return database.read_bytes(), listed


def refused(result: Result, *words: str) -> str:
    """One German line on stderr, exit 2, nothing on stdout; the line is returned."""
    assert (result.code, result.out) == (2, ""), result
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("koordinator: "), result.err
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.err
    return lines[0]


def stamp_at(hours: float) -> str:
    """The stored form of the moment `hours` after this machine's clock now."""
    return timestamp(datetime.now(UTC) + timedelta(hours=hours))


# --- sequences stay below 1000 ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1.1000", "1.999999", "1.1000000"])
def test_import_refuses_a_measure_numbered_beyond_999_at_its_line(
    koordinator: Run, tmp_path: Path, number: str
) -> None:
    # Consistent in itself (state and history agree): today's reader imports it, and the
    # importing database hands out the next number after it.
    path = one_measure_export(koordinator, tmp_path / "anna", 1, "Portal")
    text = edited(path, 'number = "1.1"', f'number = "{number}"', count=2)
    target = empty_database(koordinator, tmp_path / "fb12.db")
    before = picture(koordinator, target)

    refused(
        koordinator("--db", target, "import", path),
        f"{path}:{line_of(text, 'number = ' + json.dumps(number))}:",
        f"Maßnahme {number}",
        f"„{number}“ ist zu groß",
        "Laufnummern gehen nur bis 999",
    )
    assert picture(koordinator, target) == before


def test_import_refuses_a_creation_event_numbering_beyond_999_at_its_line(
    koordinator: Run, tmp_path: Path
) -> None:
    path = one_measure_export(koordinator, tmp_path / "anna", 1, "Portal")
    text = path.read_text(encoding="utf-8")
    payload = text.index("[measures.events.details.measure]")
    text = text[:payload] + text[payload:].replace('number = "1.1"', 'number = "1.1000"')
    path.write_text(text, encoding="utf-8")
    target = empty_database(koordinator, tmp_path / "fb12.db")
    before = picture(koordinator, target)

    refused(
        koordinator("--db", target, "import", path),
        f"{path}:{line_of(text, 'number = ' + json.dumps('1.1000'))}:",
        "Maßnahme 1.1",
        "„1.1000“ ist zu groß",
    )
    assert picture(koordinator, target) == before


def test_a_field_at_999_refuses_a_new_measure_and_a_larger_number_does_not_exist(
    koordinator: Run, tmp_path: Path
) -> None:
    path = one_measure_export(koordinator, tmp_path / "anna", 1, "Portal")
    edited(path, 'number = "1.1"', 'number = "1.998"', count=2)
    target = empty_database(koordinator, tmp_path / "fb12.db")
    ok(koordinator("--db", target, "import", path))
    assert ok(koordinator("--db", target, "new", "1", "Letzte")).startswith("1.999 ")
    before = picture(koordinator, target)

    refused(
        koordinator("--db", target, "new", "1", "Eine zu viel"),
        "Handlungsfeld 1 ist voll",
        "Laufnummern gehen nur bis 999",
        "1.999",
    )
    assert picture(koordinator, target) == before
    refused(
        koordinator("--db", target, "show", "1.1000"),
        "Maßnahme 1.1000 gibt es nicht",
    )
    # Only that field is full, and what it holds is exported and read back as it was.
    assert ok(koordinator("--db", target, "new", "2", "Anderswo")).startswith("2.1 ")
    again = tmp_path / "wieder.toml"
    ok(koordinator("--db", target, "export", "-o", again))
    copy = empty_database(koordinator, tmp_path / "kopie.db")
    ok(koordinator("--db", copy, "import", again))
    listed = json.loads(ok(koordinator("--db", copy, "list", "--format", "json")))
    assert [m["number"] for m in listed["measures"]] == ["1.998", "1.999", "2.1"]


# --- events from the future -----------------------------------------------------------------


def creation_stamp(path: Path) -> str:
    match = re.search(r'^occurred_at = "([^"]+)"$', path.read_text(encoding="utf-8"), re.M)
    assert match is not None
    return match.group(1)


def dated(path: Path, new: str) -> tuple[str, str]:
    """The file's one event (and the state's `updated_at`, which is its time) moved to
    `new`: consistent, as a laptop whose clock runs fast writes it."""
    return edited(path, creation_stamp(path), new, count=2), new


def test_import_refuses_an_event_dated_more_than_24_hours_ahead_and_diff_still_reads_it(
    koordinator: Run, tmp_path: Path
) -> None:
    path = one_measure_export(koordinator, tmp_path / "ben", 2, "Schnelle Uhr")
    text, future = dated(path, stamp_at(25))
    target = empty_database(koordinator, tmp_path / "fb12.db")
    before = picture(koordinator, target)

    for dry_run in ([], ["--dry-run"]):
        refused(
            koordinator("--db", target, "import", *dry_run, path),
            f"{path}:{line_of(text, 'occurred_at = ' + json.dumps(future))}:",
            "Maßnahme 2.1",
            f"„{future}“ liegt mehr als 24 Stunden nach der Uhr dieses Rechners",
        )
        assert picture(koordinator, target) == before
    # diff only reads: it shows what the file holds, so that one can see what is wrong.
    other = one_measure_export(koordinator, tmp_path / "anna", 1, "Portal")
    assert "2.1" in ok(koordinator("--db", target, "diff", other, path))


def test_one_file_from_the_future_refuses_the_whole_import_and_a_day_ahead_is_fine(
    koordinator: Run, tmp_path: Path
) -> None:
    good = one_measure_export(koordinator, tmp_path / "anna", 1, "Portal")
    dated(good, stamp_at(23))  # a clock set a time zone wrong: still a real moment
    bad = one_measure_export(koordinator, tmp_path / "ben", 2, "Schnelle Uhr")
    text, future = dated(bad, "2999-01-01T00:00:00.000000Z")
    target = empty_database(koordinator, tmp_path / "fb12.db")
    before = picture(koordinator, target)

    refused(
        koordinator("--db", target, "import", good, bad),
        f"{bad}:{line_of(text, 'occurred_at = ' + json.dumps(future))}:",
        "Maßnahme 2.1",
        "mehr als 24 Stunden",
    )
    assert picture(koordinator, target) == before
    assert "Importiert: 1 neuer Eintrag" in ok(koordinator("--db", target, "import", good))


def test_import_refuses_a_snapshot_exported_more_than_24_hours_ahead(
    koordinator: Run, tmp_path: Path
) -> None:
    path = one_measure_export(koordinator, tmp_path / "ben", 1, "Portal")
    text = path.read_text(encoding="utf-8")
    exported = re.search(r'^exported_at = "([^"]+)"$', text, re.M)
    assert exported is not None
    future = stamp_at(25)
    edited(path, exported.group(1), future, count=1)
    target = empty_database(koordinator, tmp_path / "fb12.db")
    before = picture(koordinator, target)

    refused(
        koordinator("--db", target, "import", path),
        f"{path}:3:",
        "„exported_at“",
        f"„{future}“ liegt mehr als 24 Stunden nach der Uhr dieses Rechners",
    )
    assert picture(koordinator, target) == before


def test_the_import_reads_the_clock_it_is_given_and_24_hours_ahead_is_the_last_moment(
    koordinator: Run, tmp_path: Path
) -> None:
    path = one_measure_export(koordinator, tmp_path / "anna", 1, "Portal")
    event = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    dated(path, timestamp(event))
    target = empty_database(koordinator, tmp_path / "fb12.db")

    with opened(target) as store:
        last_moment = event - timedelta(hours=24)
        result = import_snapshots(store, [path], dry_run=True, clock=lambda: last_moment)
        assert result.plan.new_event_count == 1
        too_early = last_moment - timedelta(microseconds=1)
        with pytest.raises(SnapshotError, match=f"^{re.escape(str(path))}:[0-9]+: .*24 Stunden"):
            import_snapshots(store, [path], clock=lambda: too_early)
