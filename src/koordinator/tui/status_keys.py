"""One letter per target status: the same in the status line's question, the status dialog
and the help screen, so that `s` `z` is learnt once."""

from __future__ import annotations

from koordinator.core.workflow import Status

STATUS_KEYS: dict[Status, str] = {
    Status.PLANNING: "p",
    Status.ON_SCHEDULE: "z",
    Status.DELAYED: "v",
    Status.ESTABLISHED: "e",
    Status.HANDED_OVER: "l",
    Status.DROPPED: "x",
}

# Shorter labels for the status line of a narrow (80-column) terminal.
SHORT_LABELS: dict[Status, str] = {
    Status.PLANNING: "Planung",
    Status.ON_SCHEDULE: "Zeitplan",
    Status.DELAYED: "Verzögert",
    Status.ESTABLISHED: "Etabliert",
    Status.HANDED_OVER: "Linie",
    Status.DROPPED: "Verworfen",
}
