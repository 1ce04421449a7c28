"""The hand-written word wrappers against the libraries' public ones, in one run.

    python benchmarks/wrapping.py DB [--runs N]

* details pane: the lines of the first 300 measures of DB (`detail_lines`), wrapped to the
  pane's width at 120 columns (52 cells), as one cursor move each does: the pane's `wrap`
  (Rich's line breaking on (text, style) spans) against Rich's public `Text.wrap` and
  `Text.render` on the lines that do not fit (what the pane did before);
* report: `render(report_figures(...), "text")` with the report's own filling of plain
  lines against `textwrap.wrap` for every line.

Prints the median of N runs (milliseconds per measure for the pane, seconds for the
report) and the ratio. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from koordinator.core import report as report_module
from koordinator.core.report import render, report_figures
from koordinator.core.service import Catalogue
from koordinator.core.store.sqlite_store import DatabaseTarget, open_database
from koordinator.tui.widgets.measure_details import Line, detail_lines, plain, wrap

PANE_WIDTH = 52
MEASURES = 300


def wrap_with_text(text: Line, width: int, console: Console) -> list[Line]:
    """The pane's lines through Rich's public Text.wrap (what the pane did before)."""
    whole = plain(text)
    if "\n" not in whole and "\t" not in whole and len(whole) <= width:
        return [text]
    wrapped = Text.assemble(*text).wrap(console, width)
    return [tuple((s.text, s.style) for s in part.render(console)) for part in wrapped]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    database = open_database(DatabaseTarget(args.db), read_only=True)
    catalogue = Catalogue(database, author="bench")
    names = {field.code: field.name for field in catalogue.fields()}
    details = [
        detail_lines(catalogue.measure(m.number), names[m.field_code])
        for m in catalogue.list_measures(limit=MEASURES)
    ]
    console = Console(width=120)
    wrappers = {"pane's wrap (divide_line)": wrap, "Rich Text.wrap": wrap_with_text}
    timings: dict[str, list[float]] = {}
    figures = report_figures(catalogue)
    fill = report_module._fill
    own = render(figures, "text")
    report_module._fill = lambda *a: None
    try:
        if render(figures, "text") != own:
            raise SystemExit("textwrap fills the report otherwise")
    finally:
        report_module._fill = fill
    for _ in range(args.runs):
        for name, wrapper in wrappers.items():
            started = time.perf_counter()
            for lines in details:
                for text in lines:
                    wrapper(text, PANE_WIDTH, console)
            elapsed = (time.perf_counter() - started) * 1000 / len(details)
            timings.setdefault(f"details wrap, ms per measure: {name}", []).append(elapsed)
        for name, filler in (("own filling", fill), ("textwrap", lambda *a: None)):
            report_module._fill = filler
            try:
                started = time.perf_counter()
                render(figures, "text")
                elapsed = time.perf_counter() - started
            finally:
                report_module._fill = fill
            timings.setdefault(f"report render text, s: {name}", []).append(elapsed)
    database.close()
    print(f"{'what':56} {'median':>9} {'min':>9} {'ratio':>7}")
    first: dict[str, float] = {}
    for row, values in timings.items():
        group = row.split(":")[0]
        median = statistics.median(values)
        base = first.setdefault(group, median)
        print(f"{row:56} {median:9.3f} {min(values):9.3f} {median / base:6.2f}×")


if __name__ == "__main__":
    main()
