"""One line above the footer that confirms what was just saved."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

# Seconds a confirmation stays; a newer one replaces it at once.
SHOWN_SECONDS = 8.0


class StatusLine(Widget):
    """Always mounted and always one line high, so a new message changes no geometry.

    Confirmations of saves come here rather than as toasts: a toast is a widget mounted
    over the screen, which lays out and repaints the screen once more after every save,
    and a stack of toasts covers the table a coordinator is working down.  Errors and
    warnings still come as notifications: they must not be overlooked.
    """

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = ""
        self.message = ""
        self._timer: Timer | None = None

    @property
    def text(self) -> str:
        """What the line says, for tests."""
        return f"{self.title}: {self.message}" if self.title else ""

    def say(self, message: str, title: str = "Gespeichert") -> None:
        self.title = title
        self.message = message
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SHOWN_SECONDS, self.clear)
        self.refresh()

    def clear(self) -> None:
        self.title = self.message = ""
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        base = self.rich_style
        if not self.title:
            return Strip.blank(width, base)
        segments = [
            Segment("✓ ", base + Style(color=self._color())),
            Segment(f"{self.title}: ", base + Style(bold=True)),
            Segment(self.message, base),
        ]
        return Strip(segments).crop_extend(0, width, base)

    def _color(self) -> str:
        return self.app.current_theme.success or "green"
