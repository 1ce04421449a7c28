"""Writing the file a user chose (`export -o`, `report -o`, the settings, the UI's export):
whatever is at the path stays what it is.

A symlink stays a link and its target gets the text; a device, a FIFO or an open descriptor
is written, never replaced by a regular file; a file keeps its permissions, its owner and its
hard links.  Real files, links, FIFOs and device nodes in `tmp_path`; the machine's own
/dev/null and /dev/stdout are never written here (replacing them by mistake, as root, would
break the machine for everything else), only copies of them: a device node with /dev/null's
numbers, and a link to /proc/self/fd/N.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from koordinator.cli import main
from koordinator.core.errors import OutputFileError
from koordinator.core.files import write_text
from koordinator.core.report import write_report
from koordinator.core.service import Catalogue
from koordinator.core.settings import Settings, load_settings, save_settings
from koordinator.core.snapshot import export_to_file
from koordinator.core.store.sqlite_store import SqliteStore

SNAPSHOT_START = 'format = "koordinator-snapshot"'
REPORT_START = "# Digitalisierungsstrategie"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def identity(path: Path) -> tuple[int, int]:
    info = path.lstat()
    return info.st_dev, info.st_ino


@pytest.fixture(autouse=True)
def dev_null_stays_a_device() -> Any:
    """Whatever a test here does, the machine's /dev/null is still the device afterwards."""
    yield
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


# --- symbolic links --------------------------------------------------------------------------


def test_export_through_a_symlink_writes_its_target_and_keeps_the_link(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    real = tmp_path / "stand-real.toml"
    real.write_text("# alt\n", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "stand.toml"
    link.symlink_to(real.name)
    code, out, err = run(capsys, "--db", str(sample_path), "export", "-o", str(link))
    assert code == 0, err
    assert link.is_symlink() and link.readlink() == Path(real.name)
    assert real.read_text(encoding="utf-8").startswith(SNAPSHOT_START)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert out.startswith(f"{link} (Verknüpfung auf {real}): Snapshot geschrieben (49 Maßnahmen")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "catalogue.db",
        "stand-real.toml",
        "stand.toml",
    ]


def test_report_through_a_symlink_into_another_folder_writes_there(
    capsys: pytest.CaptureFixture[str],
    sample_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The temporary file is made in the target's folder (a rename works only within one
    file system): a link in a folder nobody may write to still writes its target."""
    here, there = tmp_path / "hier", tmp_path / "ablage"
    here.mkdir()
    there.mkdir()
    (there / "bericht.md").write_text("alt\n", encoding="utf-8")
    link = here / "bericht.md"
    link.symlink_to("../ablage/bericht.md")
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: Any, dir: Any = None, **kwargs: Any) -> tuple[int, str]:
        if dir is not None and Path(dir).resolve() == here.resolve():
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    code, out, err = run(capsys, "--db", str(sample_path), "report", "-o", str(link))
    assert code == 0, err
    assert link.is_symlink()
    assert (there / "bericht.md").read_text(encoding="utf-8").startswith(REPORT_START)
    assert f"(Verknüpfung auf {there.resolve() / 'bericht.md'}): Bericht geschrieben" in out
    assert [p.name for p in here.iterdir()] == ["bericht.md"]
    assert [p.name for p in there.iterdir()] == ["bericht.md"]


def test_a_dangling_symlink_creates_the_file_it_names(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "ablage").mkdir()
    link = tmp_path / "stand.toml"
    link.symlink_to("ablage/neu.toml")
    code, out, err = run(capsys, "--db", str(sample_path), "export", "-o", str(link))
    assert code == 0, err
    assert link.is_symlink()
    assert (tmp_path / "ablage" / "neu.toml").read_text(encoding="utf-8").startswith(SNAPSHOT_START)
    assert "Verknüpfung auf" in out and "neu.toml" in out


def test_a_dangling_symlink_into_a_missing_folder_is_refused(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    link = tmp_path / "stand.toml"
    link.symlink_to("fehlt/neu.toml")
    code, out, err = run(capsys, "--db", str(sample_path), "export", "-o", str(link))
    assert (code, out) == (2, "")
    assert err == (
        f"koordinator: {link} (Verknüpfung auf {tmp_path / 'fehlt' / 'neu.toml'}): "
        f"Ordner {tmp_path / 'fehlt'} existiert nicht\n"
    )
    assert link.is_symlink() and not (tmp_path / "fehlt").exists()


def test_a_symlink_to_a_folder_is_refused_and_stays(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "ordner").mkdir()
    link = tmp_path / "stand.toml"
    link.symlink_to("ordner")
    code, _, err = run(capsys, "--db", str(sample_path), "export", "-o", str(link))
    assert code == 2 and "ist ein Ordner" in err
    assert link.is_symlink() and list((tmp_path / "ordner").iterdir()) == []


# --- devices, FIFOs, open descriptors ----------------------------------------------------------


def test_export_to_a_character_device_writes_it_and_leaves_the_node(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    """A twin of /dev/null (same device numbers) made here: what `-o /dev/null` does."""
    node = tmp_path / "null"
    numbers = Path("/dev/null").stat().st_rdev
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, numbers)
    except PermissionError:
        pytest.skip("making a device node needs root")
    before = identity(node)
    code, out, err = run(capsys, "--db", str(sample_path), "export", "-o", str(node))
    assert code == 0, err
    assert out.startswith(f"{node}: Snapshot geschrieben")
    info = node.lstat()
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == numbers
    assert identity(node) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalogue.db", "null"]


def test_a_fifo_without_a_reader_is_refused_at_once(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "rohr"
    os.mkfifo(fifo)
    for command in ("export", "report"):
        code, out, err = run(capsys, "--db", str(sample_path), command, "-o", str(fifo))
        assert (code, out) == (2, "")
        assert err == (
            f"koordinator: {fifo}: niemand liest aus dieser Pipe (FIFO) – nichts geschrieben\n"
        )
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalogue.db", "rohr"]


def read_fifo_while(fifo: Path, write: Any) -> tuple[Any, bytes]:
    """Run `write()` while a thread reads `fifo` to the end; what it returned, what was read.

    A non-blocking read end is held from the start, so that the writer always finds a
    reader; the thread's own (blocking) open returns once a writer is there, and a writer
    end held until the thread has opened lets a late thread in too.  That end is opened
    through the held descriptor, so it reaches the FIFO even if a broken writer replaced
    the FIFO's name by a file (then the thread reads that file): no hang either way."""
    received: list[bytes] = []
    opened = threading.Event()

    def reader() -> None:
        with fifo.open("rb") as pipe:
            opened.set()
            received.append(pipe.read())

    keep = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        result = write()
    finally:
        late = os.open(f"/proc/self/fd/{keep}", os.O_WRONLY | os.O_NONBLOCK)
        opened.wait()
        os.close(late)
        thread.join()
        os.close(keep)
    return result, received[0]


def test_export_to_a_fifo_with_a_reader_is_read_whole(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "rohr"
    os.mkfifo(fifo)
    # A note long enough that the snapshot is more than a pipe holds.
    run(capsys, "--db", str(sample_path), "milestone", "1.6", "Pilot", "--note", "n" * 9000)
    code, received = read_fifo_while(
        fifo, lambda: main(["--db", str(sample_path), "export", "-o", str(fifo)])
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert len(received) > 65536  # more than a pipe holds: the writer waited for the reader
    assert received.decode("utf-8").startswith(SNAPSHOT_START)
    assert received.endswith(b"\n")
    assert out.startswith(f"{fifo}: Snapshot geschrieben")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_link_to_this_process_stdout_writes_stdout_in_order(
    capfd: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    """`-o /dev/stdout` (here a link of our own to /proc/self/fd/1, as /dev/stdout is): the
    report, then the line saying so, both on stdout; the link stays."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    code = main(["--db", str(sample_path), "report", "-o", str(link)])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert out.startswith(REPORT_START)
    assert out.endswith(f"\n{link}: Bericht geschrieben (49 Maßnahmen, markdown)\n")
    assert link.is_symlink()


def test_an_open_pipe_descriptor_is_written_not_replaced(
    capsys: pytest.CaptureFixture[str], sample_path: Path
) -> None:
    """`-o /dev/stdout | less`: the descriptor is a pipe; the text goes into it."""
    read_end, write_end = os.pipe()
    try:
        code, out, err = run(
            capsys, "--db", str(sample_path), "report", "-o", f"/proc/self/fd/{write_end}"
        )
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            received = pipe.read().decode("utf-8")
    finally:
        for descriptor in (read_end, write_end):
            with contextlib.suppress(OSError):  # closed already, as it should be
                os.close(descriptor)
    assert code == 0, err
    assert received.startswith(REPORT_START)
    assert out.startswith(f"/proc/self/fd/{write_end}: Bericht geschrieben")


# --- existing regular files: permissions, owner, hard links ----------------------------------


def test_an_existing_file_keeps_its_mode_and_owner(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "stand.toml"
    target.write_text("# alt\n", encoding="utf-8")
    target.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(target, 4321, 4321)
    code, _, err = run(capsys, "--db", str(sample_path), "export", "-o", str(target))
    assert code == 0, err
    info = target.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (4321, 4321)
    assert target.read_text(encoding="utf-8").startswith(SNAPSHOT_START)


def test_a_hard_linked_file_is_written_in_place_and_keeps_its_links(
    capsys: pytest.CaptureFixture[str], sample_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "bericht.md"
    target.write_text("alt\n" * 5000, encoding="utf-8")  # longer than the report: cut off
    target.chmod(0o640)
    copy = tmp_path / "ablage-bericht.md"
    os.link(target, copy)
    before = identity(target)
    code, out, err = run(capsys, "--db", str(sample_path), "report", "-o", str(target))
    assert code == 0, err
    assert out.startswith(f"{target}: Bericht geschrieben")
    assert identity(target) == identity(copy) == before
    assert target.stat().st_nlink == 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    text = copy.read_text(encoding="utf-8")
    assert text.startswith(REPORT_START) and "alt\n" not in text
    assert text == target.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ablage-bericht.md",
        "bericht.md",
        "catalogue.db",
    ]


def test_a_hard_linked_file_on_a_full_disk_stays_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The space is reserved before the first byte is overwritten."""
    target = tmp_path / "bericht.md"
    target.write_text("alt\n", encoding="utf-8")
    os.link(target, tmp_path / "kopie.md")

    def fallocate(descriptor: int, offset: int, length: int) -> None:
        os.ftruncate(descriptor, offset + length)  # what a partial allocation may leave
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", fallocate)
    with pytest.raises(OutputFileError, match="Datenträger voll"):
        write_text(target, "neu\n" * 1000)
    assert (tmp_path / "kopie.md").read_bytes() == b"alt\n"


def test_a_long_valid_file_name_leaves_room_for_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / ("b" * 250 + ".md")
    written = write_text(target, "Bericht\n")
    assert written.how == "created"
    assert target.read_text(encoding="utf-8") == "Bericht\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


# --- the settings ------------------------------------------------------------------------------


def test_settings_kept_as_a_link_stay_a_link_and_private(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "koordinator.toml"
    real.write_text('theme = "textual-dark"\n', encoding="utf-8")
    real.chmod(0o600)
    settings_file = tmp_path / "config" / "settings.toml"
    settings_file.parent.mkdir()
    settings_file.symlink_to(real)
    assert save_settings(Settings(theme="koordinator-kontrast"), settings_file) is None
    assert settings_file.is_symlink()
    assert load_settings(real)[0].theme == "koordinator-kontrast"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert [p.name for p in dotfiles.iterdir()] == ["koordinator.toml"]


def test_settings_that_cannot_be_written_are_a_warning(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.toml"
    os.mkfifo(settings_file)  # nobody reads it: refused at once, no hang, no exception
    warning = save_settings(Settings(theme="koordinator-kontrast"), settings_file)
    assert warning == (
        f"{settings_file}: niemand liest aus dieser Pipe (FIFO) – nichts geschrieben"
        " – Einstellungen nicht gespeichert"
    )
    assert stat.S_ISFIFO(settings_file.lstat().st_mode)


# --- the UI's export and report (the functions its dialogs call) ----------------------------


def test_the_ui_export_follows_a_link_and_says_where_it_wrote(
    database: SqliteStore, tmp_path: Path
) -> None:
    real = tmp_path / "ablage.toml"
    real.write_text("# alt\n", encoding="utf-8")
    link = tmp_path / "stand.toml"
    link.symlink_to(real)
    export = export_to_file(database, link, author="testerin")
    assert export.written is not None
    assert str(export.written) == f"{link} (Verknüpfung auf {real})"
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == export.text


def test_the_ui_report_keeps_a_hard_link(catalogue: Catalogue, tmp_path: Path) -> None:
    target = tmp_path / "bericht.md"
    target.write_text("alt\n", encoding="utf-8")
    os.link(target, tmp_path / "kopie.md")
    written = write_report(catalogue, target)
    assert (str(written), written.how) == (str(target), "in place")
    assert (tmp_path / "kopie.md").read_text(encoding="utf-8").startswith(REPORT_START)


def test_the_ui_export_to_a_fifo_without_reader_is_one_error(
    database: SqliteStore, tmp_path: Path
) -> None:
    fifo = tmp_path / "rohr"
    os.mkfifo(fifo)
    with pytest.raises(OutputFileError, match="niemand liest"):
        export_to_file(database, fifo, author="testerin")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
