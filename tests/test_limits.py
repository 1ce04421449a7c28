"""Limits a snapshot and the catalogue keep (issue 14): measure numbers stay below F.1000,
and an import refuses events dated more than a day after the importing machine's clock.

Each case writes its snapshot with `koordinator export`, edits the text to the hostile value
and runs the real command in a fresh process: exit 2, one line naming FILE:LINE, and the
database byte for byte as before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from snapshot_helpers import line_of

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
