"""Writing a file the user chose (a snapshot, a report, the settings) without ever replacing
what is at the path with something else.

* Nothing there, or a regular file with one name: the text goes into a temporary file in the
  same folder, is synced and renamed over the path, and the folder is synced; a reader or a
  crash sees the old file or the new one, never half of one.  An existing file's permission
  bits (and, where allowed, its owner and group) carry over to the new one.
* A regular file with more than one hard link: a rename would cut it off from its other
  names, so it is overwritten in place; the space is reserved first where the file system
  can, so that a full disk is noticed before the first byte changes.
* A symbolic link: the file it finally points to is written as above, in that file's own
  folder; the link stays a link.  A dangling link creates the file it names when that file's
  folder exists.
* A character device, a FIFO or an open file's descriptor (`-o /dev/null`, a terminal,
  `-o /dev/stdout`): written directly, never replaced or unlinked.  A FIFO is opened without
  waiting, so that one nobody reads is refused instead of hanging.
* A folder, a socket, a missing folder, a loop of links: refused with one German line.

Everything the caller renders is rendered before it calls; only the write itself is left.
Standard library only: the UI's settings and the CLI's report use it without the snapshot
machinery.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from koordinator.core.errors import OutputFileError, os_reason

__all__ = ["Destination", "Written", "destination", "write_text"]

# Linux resolves at most 40 links in one path; a longer chain is a loop for our purposes.
_MAX_LINKS = 40

How = Literal["created", "replaced", "in place", "directly"]


@dataclass(frozen=True)
class Destination:
    """Where a write to `path` goes, found before anything is written."""

    path: Path  # as the user named it (with "~" expanded)
    target: Path  # the file the text goes to: a symlink's final target, else `path`
    existing: os.stat_result | None  # what is at `target` now; None: nothing yet
    through_descriptor: bool = False  # reached via a link in /proc: an open file
    # This process's own descriptor (`/dev/stdout`, `/dev/fd/3`): written on a copy of it,
    # so that what the process prints afterwards comes after it, not over it.
    own_descriptor: int | None = None

    @property
    def followed_link(self) -> bool:
        return self.target != self.path

    def __str__(self) -> str:
        if self.followed_link and not self.through_descriptor:
            return f"{self.path} (Verknüpfung auf {self.target})"
        return str(self.path)


@dataclass(frozen=True)
class Written:
    """What was written where; `str()` is the path for messages, naming a link's target."""

    destination: Destination
    how: How

    @property
    def path(self) -> Path:
        return self.destination.path

    @property
    def target(self) -> Path:
        return self.destination.target

    def __str__(self) -> str:
        return str(self.destination)


def destination(path: Path | str) -> Destination:
    """Where writing `path` would go; raises OutputFileError for what can never be written
    (a folder, a socket, a missing folder, a loop of links).  Writes nothing, opens nothing:
    the export dialog asks this before it closes."""
    path = Path(path).expanduser()
    current = path
    followed = False
    for _ in range(_MAX_LINKS):
        try:
            existing: os.stat_result | None = current.lstat()
        except (FileNotFoundError, NotADirectoryError):
            existing = None
        except OSError as error:
            raise _failed(path, error) from None
        except ValueError:  # a NUL in the name: no file system takes it
            raise OutputFileError(path, "kann nicht geschrieben werden (ungültiger Name)") from None
        if existing is None or not stat.S_ISLNK(existing.st_mode):
            break
        if _in_proc(current.parent):
            # The kernel's link to an open file: its text is not always a path ("pipe:[…]",
            # "… (deleted)"), and renaming over what it names would take the file away from
            # the process that has it open.  Written through the link, as the shell would.
            try:
                existing = current.stat()
            except OSError as error:
                raise _failed(path, error) from None
            own = _own_descriptor(current)
            return _checked(Destination(path, current, existing, True, own))
        followed = True
        try:
            # Relative to the link's folder as reached; ".." is left to the file system.
            current = current.parent / current.readlink()
        except OSError as error:
            raise _failed(path, error) from None
    else:
        raise _failed(path, OSError(errno.ELOOP, os.strerror(errno.ELOOP)))
    target = Path(os.path.realpath(current)) if followed else path
    return _checked(Destination(path, target, existing))


def write_text(path: Path | str, text: str) -> Written:
    """Write `text` (UTF-8, "\\n" line ends) to `path` the way the module docstring says."""
    where = destination(path)
    existing = where.existing
    try:
        if existing is None:
            _replace(where, text)
            return Written(where, "created")
        if stat.S_ISREG(existing.st_mode) and not where.through_descriptor:
            if not os.access(where.target, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            if existing.st_nlink > 1:
                _overwrite(where, text)
                return Written(where, "in place")
            _replace(where, text)
            return Written(where, "replaced")
        _write_directly(where, text)
        return Written(where, "directly")
    except OSError as error:
        raise _failed(where, error) from None


# --- finding the destination ------------------------------------------------------------------


def _in_proc(folder: Path) -> bool:
    real = os.path.realpath(folder)
    return real == "/proc" or real.startswith("/proc/")


def _own_descriptor(link: Path) -> int | None:
    own_folder = os.path.realpath(link.parent) == f"/proc/{os.getpid()}/fd"
    return int(link.name) if own_folder and link.name.isdigit() else None


def _checked(where: Destination) -> Destination:
    existing = where.existing
    if existing is None:
        folder = where.target.parent
        if not folder.is_dir():
            raise OutputFileError(where, f"Ordner {folder} existiert nicht")
    elif stat.S_ISDIR(existing.st_mode):
        raise OutputFileError(where, "ist ein Ordner, keine Datei")
    elif stat.S_ISSOCK(existing.st_mode):
        raise OutputFileError(where, "ist ein Socket, keine Datei – nichts geschrieben")
    return where


def _failed(where: Destination | Path, error: OSError) -> OutputFileError:
    return OutputFileError(where, f"kann nicht geschrieben werden ({os_reason(error)})")


# --- the three ways of writing --------------------------------------------------------------


def _replace(where: Destination, text: str) -> None:
    """A temporary file beside the target, synced, renamed over it; the folder synced."""
    import tempfile  # not needed at start-up

    folder = where.target.parent
    # The name clipped, so that a long but valid file name still leaves room for the rest.
    prefix = f".{where.target.name[:100]}."
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        existing = where.existing
        if existing is None:
            temporary.chmod(0o666 & ~_umask())  # mkstemp's 0600 is not the user's usual
        else:
            if hasattr(os, "chown"):
                # First: a change of owner clears set-id bits that chmod then restores.  Only
                # root may give a file away; the permission bits carry over regardless.
                with contextlib.suppress(OSError):
                    os.chown(temporary, existing.st_uid, existing.st_gid)
            temporary.chmod(stat.S_IMODE(existing.st_mode))
        temporary.replace(where.target)
        sync_folder(folder)
    finally:
        temporary.unlink(missing_ok=True)  # after the rename the name is gone already


def _overwrite(where: Destination, text: str) -> None:
    """The file itself, for a file with several hard links: overwritten, cut, synced."""
    length = len(text.encode("utf-8"))
    descriptor = os.open(where.target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
        _reserve(descriptor, length, where.existing)
        file.write(text)
        file.flush()
        os.ftruncate(descriptor, length)
        os.fsync(descriptor)


def _reserve(descriptor: int, length: int, existing: os.stat_result | None) -> None:
    """Allocate `length` bytes before overwriting, so that a full disk fails here, while
    the file is still as it was; a file system that cannot reserve is simply written."""
    if not hasattr(os, "posix_fallocate") or length == 0:
        return
    try:
        os.posix_fallocate(descriptor, 0, length)
    except OSError as error:
        if error.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            return
        if existing is not None:  # what was allocated beyond the old end goes again
            os.ftruncate(descriptor, existing.st_size)
        raise


def _write_directly(where: Destination, text: str) -> None:
    """A device, a FIFO or an open file: opened and written, never replaced."""
    existing = where.existing
    regular = existing is not None and stat.S_ISREG(existing.st_mode)
    # Not blocking at open: a FIFO without a reader fails with ENXIO instead of waiting.
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)
    if regular:
        flags |= os.O_APPEND  # another process's open file: after what it holds
    try:
        if where.own_descriptor is not None:
            # Sharing the descriptor's offset and mode; its blocking stays as its owner set it.
            descriptor = os.dup(where.own_descriptor)
        else:
            descriptor = os.open(where.target, flags)
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise OutputFileError(
                where, "niemand liest aus dieser Pipe (FIFO) – nichts geschrieben"
            ) from None
        raise
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
        if hasattr(os, "set_blocking") and where.own_descriptor is None:
            os.set_blocking(descriptor, True)  # a reader that is slow is waited for
        file.write(text)
        file.flush()
        if regular:
            os.fsync(descriptor)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def sync_folder(folder: Path) -> None:
    """The rename itself survives a power cut only once the folder is synced."""
    if os.name != "posix":  # Windows cannot open a folder for fsync; its rename is durable
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
