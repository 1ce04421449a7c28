"""A line that says a slow job is under way ("Export läuft …"), with a moving indicator.

The screen mounts it when a job has run for a moment and removes it when the job is done;
meanwhile every key works as usual.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, LoadingIndicator


class ProgressLine(Horizontal):
    DEFAULT_CSS = """
    ProgressLine {
        height: 1;
        background: $boost;
    }
    ProgressLine LoadingIndicator {
        width: 8;
        height: 1;
        min-height: 1;
        background: $boost;
    }
    ProgressLine Label {
        padding: 0 1;
    }
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label(self.text)
