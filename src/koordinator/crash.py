"""What koordinator does when it fails unexpectedly: never exit as if all went well.

The details (the traceback) go to a log file in the user's state folder; the terminal gets
one line saying what happened and where the details are, and the process exits with 1.
Changes confirmed before are saved already: each one committed in its own transaction.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path

EXIT_CRASH = 1


def report_crash(details: str, *, what: str) -> int:
    """Write `details` to a new log file, print one line about it, return the exit code."""
    where = _write_log(details)
    place = f"Einzelheiten in {where}" if where else "kein Protokoll möglich"
    print(
        f"koordinator: unerwarteter Fehler – {what} beendet; {place}. "
        "Bestätigte Änderungen sind gespeichert.",
        file=sys.stderr,
    )
    return EXIT_CRASH


def _write_log(details: str) -> Path | None:
    from koordinator.core import paths

    name = f"crash-{datetime.now().strftime('%Y-%m-%dT%H-%M-%S-%f')}.log"
    for folder in (paths.state_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with path.open("x", encoding="utf-8") as log:
                log.write(details)
            return path
        except OSError:
            continue
    return None
