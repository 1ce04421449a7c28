"""Reading needs no write: a database in a read-only folder, on a read-only file system or on
a full disk can still be listed, shown, reported and exported; a change is refused with one
German line, and the file is left as it was.

These run the real `koordinator` program.  The read-only folder is real, not simulated: the
commands run in a new user namespace (`unshare --user`), where root's permission to write
anywhere does not apply.  The read-only file system and the full disk are a small tmpfs in a
private mount namespace (`unshare --mount`), so nothing outside the test sees them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

KOORDINATOR = str(Path(sys.executable).parent / "koordinator")
READS = [
    (["list", "--field", "2"], "8 Maßnahmen"),
    (["show", "3.6"], "3.6"),
    (["report"], "Handlungsfeld"),
    (["history", "3.2"], "3.2"),
]
CHANGE = ["status", "1.11", "on_schedule"]


def _prepared(path: Path) -> None:
    """A database used once, as a coordinator's is: in WAL mode, its -wal and -shm gone."""
    subprocess.run([KOORDINATOR, "init", "--db", str(path)], check=True, capture_output=True)
    subprocess.run([KOORDINATOR, "--db", str(path), "list"], check=True, capture_output=True)


def _check_reads_and_refused_change(run: list[str], db: Path, export: Path, why: str) -> None:
    for arguments, expected in READS:
        result = subprocess.run(
            [*run, KOORDINATOR, "--db", str(db), *arguments],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, (arguments, result.stderr)
        assert expected in result.stdout and result.stderr == "", arguments
    result = subprocess.run(
        [*run, KOORDINATOR, "--db", str(db), "export", "-o", str(export)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert export.read_text(encoding="utf-8").count("\n[[measures]]\n") == 49
    result = subprocess.run(
        [*run, KOORDINATOR, "--db", str(db), *CHANGE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(db) in result.stderr and "schreibgeschützt" in result.stderr
    assert why in result.stderr


def test_a_database_in_a_read_only_folder_can_be_read(tmp_path: Path) -> None:
    folder = tmp_path / "archiv"
    folder.mkdir()
    db = folder / "k.db"
    _prepared(db)
    before = db.read_bytes()
    folder.chmod(0o555)
    try:
        _check_reads_and_refused_change(
            ["unshare", "--user"], db, tmp_path / "stand.toml", "Ordner"
        )
        assert sorted(path.name for path in folder.iterdir()) == ["k.db"]
    finally:
        folder.chmod(0o755)
    assert db.read_bytes() == before


# Runs inside `unshare --mount` as root: a tmpfs at FOLDER, the database copied onto it,
# then the file system made read-only (MODE "ro") or filled up (MODE "full"); prints the
# database's bytes afterwards as a check.
_IN_PRIVATE_MOUNT = """
import json, shutil, subprocess, sys
from pathlib import Path

folder, source, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "koordinator-test", str(folder)], check=True)
db = folder / "k.db"
shutil.copyfile(source, db)
if mode == "ro":
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
else:
    import os
    fill = os.open(folder / "fill", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fill, bytes(4096)):
            pass
    except OSError:
        pass
    os.close(fill)
results = []
for arguments in json.loads(sys.argv[4]):
    done = subprocess.run(
        [sys.argv[5], "--db", str(db), *arguments], capture_output=True, text=True, timeout=60
    )
    results.append([done.returncode, done.stdout, done.stderr])
results.append(db.read_bytes().hex())
print(json.dumps(results))
"""


@pytest.mark.parametrize(
    ("mode", "why"), [("ro", "schreibgeschütztes Dateisystem"), ("full", "Datenträger voll")]
)
def test_a_database_on_a_read_only_or_full_file_system_can_be_read(
    tmp_path: Path, mode: str, why: str
) -> None:
    source = tmp_path / "quelle.db"
    _prepared(source)
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    export = tmp_path / "stand.toml"
    commands = [arguments for arguments, _ in READS]
    commands += [["export", "-o", str(export)], CHANGE]
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            sys.executable,
            "-c",
            _IN_PRIVATE_MOUNT,
            str(mount_point),
            str(source),
            mode,
            json.dumps(commands),
            KOORDINATOR,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    *results, db_after = json.loads(done.stdout)
    for (arguments, expected), (code, out, err) in zip(READS, results, strict=False):
        assert code == 0 and expected in out and err == "", (arguments, err)
    export_code, _, export_err = results[len(READS)]
    assert export_code == 0, export_err
    assert export.read_text(encoding="utf-8").count("\n[[measures]]\n") == 49
    change_code, _, change_err = results[-1]
    assert change_code == 2 and change_err.count("\n") == 1, change_err
    assert "schreibgeschützt" in change_err and why in change_err
    assert bytes.fromhex(db_after) == source.read_bytes()
