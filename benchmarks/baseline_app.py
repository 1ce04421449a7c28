"""The baselines of the first-paint and keypress benchmarks (benchmarks/measure.py).

    python benchmarks/baseline_app.py            # Textual + sqlalchemy.orm + one label
    python benchmarks/baseline_app.py --hello    # Textual + one label ("textual hello")

The least any Textual app on SQLAlchemy can do: import textual and sqlalchemy.orm and paint
one label.  koordinator's first paint is measured as a ratio to this, in the same run, so
that the machine's speed and load cancel out.  `j` changes the label (the floor of Textual's
keypress -> screen latency), `q` quits.
"""

from __future__ import annotations

import importlib
import sys

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Label

HELLO = "--hello" in sys.argv[1:]
if not HELLO:
    importlib.import_module("sqlalchemy.orm")

TEXT = "Hallo, Textual!" if HELLO else "Baseline-Zeile 0: Textual und sqlalchemy.orm"


class Baseline(App[None]):
    BINDINGS = [Binding("q", "quit", "Beenden"), Binding("j", "next", "Weiter")]

    def __init__(self) -> None:
        super().__init__()
        self.line = 0

    def compose(self) -> ComposeResult:
        yield Label(TEXT, id="label")

    def action_next(self) -> None:
        self.line += 1
        self.query_one(Label).update(f"Baseline-Zeile {self.line}: nach Tastendruck")


if __name__ == "__main__":
    Baseline().run()
