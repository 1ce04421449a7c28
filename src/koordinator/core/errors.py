"""The errors a user can cause, each with a one-line German message that says what and where.

The CLI prints `str(error)` and exits with `EXIT_USER_ERROR`; the UI shows it as a
notification.  Anything else that escapes is a bug, not a user mistake.
"""

from __future__ import annotations

EXIT_USER_ERROR = 2


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
