"""The errors a user can cause, each with a one-line German message that says what and where.

The CLI prints `str(error)` and exits with `EXIT_USER_ERROR`; the UI shows it as a
notification.  Anything else that escapes is a bug, not a user mistake.
"""

from __future__ import annotations

import errno

EXIT_USER_ERROR = 2

# The operating system's reasons in German (its own `strerror` is English).
_OS_REASONS = {
    errno.ENOENT: "nicht vorhanden",
    errno.EACCES: "keine Berechtigung",
    errno.EPERM: "keine Berechtigung",
    errno.ENOSPC: "Datenträger voll",
    errno.EDQUOT: "Speicherkontingent erschöpft",
    errno.EROFS: "schreibgeschütztes Dateisystem",
    errno.ENAMETOOLONG: "Name zu lang",
    errno.ENOTDIR: "ein Teil des Pfads ist kein Ordner",
    errno.EISDIR: "ist ein Ordner",
    errno.ELOOP: "zu viele Verknüpfungen hintereinander (Schleife?)",
    errno.ENXIO: "niemand liest (FIFO ohne Leser)",
    errno.EPIPE: "der Leser hat die Verbindung geschlossen",
    errno.EIO: "Ein-/Ausgabefehler des Datenträgers",
    errno.EEXIST: "existiert bereits",
    errno.EBUSY: "belegt",
    errno.EFBIG: "Datei zu groß",
    errno.EINVAL: "ungültiger Name",
}


def os_reason(error: OSError | ValueError) -> str:
    """Why an operation on a file failed, in German, for the one-line messages.  A
    ValueError is what Python raises for a path with a NUL character."""
    if isinstance(error, ValueError):
        return "ungültiger Name (Nullzeichen)"
    return _OS_REASONS.get(error.errno or 0) or error.strerror or str(error)


class KoordinatorError(Exception):
    """A problem the user can fix: bad input, unknown measure, unusable database."""


class DatabaseError(KoordinatorError):
    """The database file is missing, unreadable, foreign or of a newer version."""


class InputError(KoordinatorError):
    """A value the user gave is not acceptable (date, status, missing required data)."""


class NotFoundError(KoordinatorError):
    """A measure or milestone the user named does not exist."""


class WorkflowError(KoordinatorError):
    """A status move the workflow does not allow."""


class ConflictError(KoordinatorError):
    """The measure was changed by someone else since the caller last read it."""


class SnapshotError(KoordinatorError):
    """A snapshot file that cannot be read, trusted or merged; says where (FILE:LINE)."""


class OutputFileError(KoordinatorError):
    """A file to be written cannot be: a missing folder, no permission, a full disk, a folder
    or a socket at the path, a FIFO nobody reads.  The message is "WHERE: reason"; `reason`
    alone is there for callers that say it in their own words (the settings' warning)."""

    def __init__(self, where: object, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = str(where)
        self.reason = reason


# Said by the service, the command line and the UI when there is nothing of one's own to undo.
NOTHING_TO_UNDO = "Es gibt keine eigene Änderung, die rückgängig gemacht werden kann."
