"""The dashboard: the report's figures at a glance, per field of action a bar by status.

The screen gets plain `ReportFigures` (koordinator.core.report) and never touches the
database: whoever owns the catalogue computes the figures and calls `show_figures` after
every change.  Each status has its own letter in the bars (E, Z, V, P, L, X) as well as its
own colour, so that the bars read the same without colour (monochrome terminals, colour
blindness, a printed screenshot).
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from koordinator.core.report import FieldFigures, ReportFigures
from koordinator.core.text import printable
from koordinator.core.workflow import REPORT_ORDER, Status, cause_label

STATUS_LETTERS: dict[Status, str] = {
    Status.ESTABLISHED: "E",
    Status.ON_SCHEDULE: "Z",
    Status.DELAYED: "V",
    Status.PLANNING: "P",
    Status.HANDED_OVER: "L",
    Status.DROPPED: "X",
}
# Theme variables, so that the colours follow the user's theme.
STATUS_STYLES: dict[Status, str] = {
    Status.ESTABLISHED: "bold $success",
    Status.ON_SCHEDULE: "bold $primary",
    Status.DELAYED: "bold $warning",
    Status.PLANNING: "bold $secondary",
    Status.HANDED_OVER: "bold $accent",
    Status.DROPPED: "bold $error",
}
# One cell per measure up to this width; larger fields are scaled down to it.
BAR_WIDTH = 40


def bar_cells(counts: Mapping[Status, int], width: int = BAR_WIDTH) -> dict[Status, int]:
    """How many bar cells each status gets: one per measure, or shares of `width`.

    Scaled by largest remainder, and no status that has measures is left without a cell,
    so a single dropped measure among hundreds still shows.
    """
    total = sum(counts.values())
    if total <= width:
        return dict(counts)
    present = [status for status in REPORT_ORDER if counts.get(status, 0)]
    cells = {status: max(1, counts[status] * width // total) for status in present}
    by_remainder = sorted(present, key=lambda s: (counts[s] * width) % total, reverse=True)
    for status in by_remainder:
        if sum(cells.values()) >= width:
            break
        cells[status] += 1
    while sum(cells.values()) > width:  # the minimum of one cell each overshot
        largest = max(present, key=lambda s: cells[s])
        cells[largest] -= 1
    return cells


def status_bar(counts: Mapping[Status, int], width: int = BAR_WIDTH) -> Content:
    """The bar, padded to `width` so that the counts after it line up across fields."""
    cells = bar_cells(counts, width)
    bar = Content.assemble(
        *(
            (STATUS_LETTERS[status] * cells.get(status, 0), STATUS_STYLES[status])
            for status in REPORT_ORDER
        )
    )
    return bar.pad_right(width - len(bar))


def _counts_line(counts: Mapping[Status, int]) -> Content:
    parts: list[tuple[str, str] | str] = []
    for status in REPORT_ORDER:
        if parts:
            parts.append(" · ")
        parts += [(STATUS_LETTERS[status], STATUS_STYLES[status]), f" {counts[status]}"]
    return Content.assemble(*parts)


def _field_block(field: FieldFigures, bar_width: int) -> Content:
    """Two lines: the field and its size, then its bar and the count per status."""
    return Content.assemble(
        (printable(f"{field.code} {field.name}"), "bold"),
        f" – {field.total} Maßnahmen\n",
        status_bar(field.by_status, bar_width),
        "  ",
        _counts_line(field.by_status),
    )


def dashboard_contents(f: ReportFigures) -> dict[str, Content]:
    """What each part of the dashboard shows, by widget id.

    Content, not markup strings: a title with "[...]" must show as typed; control
    characters show as escapes.
    """
    overdue = [
        printable(f"{m.number}  {m.describe()} – {m.measure_title}") for m in f.milestones_overdue
    ]
    delays = [
        printable(f"{cause_label(cause)}: {n}") for cause, n in f.open_delays_by_cause.items()
    ]
    # As wide as the largest field needs, so that small catalogues get short bars.
    bar_width = min(BAR_WIDTH, max((field.total for field in f.fields), default=0))
    return {
        "as-of": Content(f"Übersicht · Stand {f.today:%d.%m.%Y}"),
        "totals": Content(
            f"{f.total} Maßnahmen · {f.from_catalogue} aus dem Maßnahmenkatalog 2019 · "
            f"{f.added} neu"
        ),
        "status-totals": Content(" · ").join(
            Content.assemble(
                (STATUS_LETTERS[status], STATUS_STYLES[status]),
                f" {status.label}: {f.by_status[status]}",
            )
            for status in REPORT_ORDER
        ),
        "legend": Content(
            "Balken: " + ", ".join(f"{STATUS_LETTERS[s]} = {s.label}" for s in REPORT_ORDER)
        ),
        "fields": Content("\n\n").join(_field_block(field, bar_width) for field in f.fields)
        if f.fields
        else Content("keine"),
        "delays": Content(" · ".join(delays) or "keine"),
        "overdue": Content("\n".join(overdue) or "keine"),
    }


class DashboardScreen(Screen[None]):
    """Totals, a bar per field of action, open delays by cause, overdue milestones."""

    CSS_PATH = "dashboard.tcss"
    BINDINGS = [Binding("escape", "close", "Zurück", id="close")]

    def __init__(self, figures: ReportFigures) -> None:
        super().__init__()
        self.figures = figures

    def compose(self) -> ComposeResult:
        # Built with the figures from the start: no empty first frame.
        contents = dashboard_contents(self.figures)
        yield Header()
        with VerticalScroll(id="dashboard"):
            for name in ("as-of", "totals", "status-totals", "legend"):
                yield Static(contents[name], id=name)
            for name, heading in (
                ("fields", "Handlungsfelder"),
                ("delays", "Offene Verzögerungen nach Ursache"),
                ("overdue", "Überfällige Meilensteine"),
            ):
                yield Static(heading, classes="section")
                yield Static(contents[name], id=name)
        yield Footer()

    def show_figures(self, figures: ReportFigures) -> None:
        """Show new figures (the owner calls this after every change)."""
        self.figures = figures
        if not self.is_mounted:
            return  # compose will show them
        for name, content in dashboard_contents(figures).items():
            self.query_one(f"#{name}", Static).update(content)

    def action_close(self) -> None:
        self.dismiss()
