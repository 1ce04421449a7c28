"""The line above the footer: it confirms what was just saved and asks one-key questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from koordinator.core.text import printable

# Seconds a confirmation stays; a newer one replaces it at once.
SHOWN_SECONDS = 8.0

# After a question's choices, if the line is wide enough.
QUESTION_HINT = "Enter Dialog · Esc Abbrechen"


@dataclass(frozen=True)
class Choice:
    """One answer to a question: the key that gives it, its label, what it stands for, and
    a shorter label for narrow terminals."""

    key: str
    label: str
    value: object
    short: str = ""


class StatusLine(Widget):
    """Always mounted and always one line high, so new text changes no geometry.

    Confirmations of saves come here rather than as toasts: a toast is a widget mounted
    over the screen, which lays out and repaints the screen once more after every save,
    and a stack of toasts covers the table a coordinator is working down.  Errors and
    warnings still come as notifications: they must not be overlooked.

    `ask` turns the line into a question that the next key answers; the screen passes
    that key to `answer` (the focus stays where it is: moving it would restyle and repaint
    the whole table twice).  A choice's key posts `Answered` with its value, Enter posts
    `Answered` with None ("more": the caller opens its full dialog), a letter that is no
    choice ends the question and says so (with the choices there were), any other key
    (Esc, an arrow) just ends it.
    """

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
    }
    """

    class Answered(Message):
        def __init__(self, value: object) -> None:
            super().__init__()
            self.value = value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = ""
        self.message = ""
        # A refused answer's message with the short labels and with the letters alone, for
        # narrower lines; empty for every other message.
        self.shorter: tuple[str, ...] = ()
        self.choices: tuple[Choice, ...] = ()
        self._refused = ""
        self._timer: Timer | None = None

    @property
    def asking(self) -> bool:
        return bool(self.choices)

    @property
    def text(self) -> str:
        """What the line says, for tests."""
        if self.asking:
            return f"{self.message} " + "  ".join(f"[{c.key}] {c.label}" for c in self.choices)
        if self.shorter:
            return self.message
        return f"{self.title}: {self.message}" if self.title else ""

    def say(self, message: str, title: str = "Gespeichert") -> None:
        self.title = title
        self.message = _one_line(message)
        self.shorter = ()
        self._show_for_a_while()

    def _show_for_a_while(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SHOWN_SECONDS, self.clear)
        self.refresh()

    def clear(self) -> None:
        self.title = self.message = ""
        self.shorter = ()
        self.refresh()

    def ask(
        self, question: str, choices: Sequence[Choice], *, refused: str = "kein möglicher Status"
    ) -> None:
        """`refused`: what a letter that is no choice is called ("x ist hier …: e Etabliert")."""
        if self._timer is not None:
            self._timer.stop()
        self.title = ""
        self.shorter = ()
        self.message = _one_line(question)
        self.choices = tuple(choices)
        self._refused = refused
        self.refresh()

    def answer(self, key: str) -> None:
        """The key pressed while asking: a choice's key, Enter ("more"), or anything else.

        An answer leaves the line as it is painted until the receiver says what came of
        it (`say`, `clear`): repainting it here would make the next frame show an empty
        line while the table and details still show the old state.
        """
        chosen = next((choice for choice in self.choices if choice.key == key), None)
        choices, self.choices = self.choices, ()
        if chosen is not None:
            self.post_message(self.Answered(chosen.value))
        elif key == "enter":
            self.post_message(self.Answered(None))
        elif len(key) == 1 and key.isprintable():
            self._refuse(key, choices)
        else:
            self.clear()

    def _refuse(self, key: str, choices: Sequence[Choice]) -> None:
        """Say that `key` was no choice, and which there were: a letter typed by mistake
        (or `j` out of habit) must not vanish without a word.  Narrower lines get the
        short labels, or the letters alone."""
        refused = f"{printable(key)} ist hier {self._refused}: "
        self.title = ""
        self.message = refused + ", ".join(f"{c.key} {c.label}" for c in choices)
        self.shorter = (
            refused + ", ".join(f"{c.key} {c.short or c.label}" for c in choices),
            refused + ", ".join(c.key for c in choices),
        )
        self._show_for_a_while()

    def cancel(self) -> None:
        """Stop asking (without an answer)."""
        if self.asking:
            self.choices = ()
            self.clear()

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        base = self.rich_style
        if self.asking:
            segments = self._question_segments(width, base)
        elif self.shorter:
            fitting = (text for text in self.shorter if len(text) <= width - 2)
            message = self.message if len(self.message) <= width - 2 else next(fitting, "")
            message = message or self.shorter[-1]
            segments = [
                Segment("! ", base + Style(color=self._color("warning"), bold=True)),
                Segment(message, base),
            ]
        elif self.title:
            segments = [
                Segment("✓ ", base + Style(color=self._color("success"))),
                Segment(f"{self.title}: ", base + Style(bold=True)),
                Segment(self.message, base),
            ]
        else:
            return Strip.blank(width, base)
        return Strip(segments).crop_extend(0, width, base)

    def _question_segments(self, width: int, base: Style) -> list[Segment]:
        """The choices always; the question and the hint as far as the width allows, and
        the short labels if even the choices alone are too wide (80 columns)."""
        key_style = base + Style(color=self._color("accent"))

        def listed(short: bool) -> list[Segment]:
            segments: list[Segment] = []
            for choice in self.choices:
                label = (choice.short or choice.label) if short else choice.label
                segments += [Segment(f"[{choice.key}]", key_style), Segment(f" {label}  ", base)]
            return segments

        choices = listed(short=False)
        question = Segment(self.message + " ", base + Style(bold=True))
        hint = Segment(QUESTION_HINT, base + Style(dim=True))
        for segments in ([question, *choices, hint], [question, *choices], choices):
            if Segment.get_line_length(segments) <= width:
                return segments
        return listed(short=True)

    def _color(self, name: str) -> str | None:
        return getattr(self.app.current_theme, name, None)


def _one_line(text: str) -> str:
    """A title or note on one line: a note's line breaks and tabs as spaces, control
    characters as escapes (segments reach the terminal as they are)."""
    return printable(" ".join(text.split()))
