"""The marker of a chosen option (the status dialog's move, the chosen field of action):
a character before its label, so that the choice shows without colour (`NO_COLOR`, a
monochrome terminal, a printout of the screen) and not by the highlight's colour alone."""

from __future__ import annotations

from textual.content import Content

CHOSEN = "›"
NOT_CHOSEN = " "


class MarkedLabel(Content):
    """An option's prompt painted as "› label" (chosen) or "  label".

    `str()` gives the label alone: what the option stands for, as the code and the tests
    compare it; the marker is presentation and only painted.  The label is taken as plain
    text, never as markup.
    """

    def __init__(self, label: str, *, chosen: bool) -> None:
        super().__init__(f"{CHOSEN if chosen else NOT_CHOSEN} {label}")
        self.label = label
        self.chosen = chosen

    def __str__(self) -> str:
        return self.label
