"""The dashboard screen shows the report's figures: totals, a bar per field, delays, overdue."""

from __future__ import annotations

from datetime import date

import pytest
from textual.app import App
from textual.content import Content
from textual.widgets import Static

from koordinator.core.report import ReportFigures, compute_figures
from koordinator.core.service import Catalogue
from koordinator.core.workflow import DelayInput, Status
from koordinator.tui.screens.dashboard import DashboardScreen, bar_cells

TODAY = date(2021, 2, 23)


class DashboardApp(App[None]):
    """A bare app that only opens the dashboard, as the real app does on its key."""

    def __init__(self, figures: ReportFigures) -> None:
        super().__init__()
        self.figures = figures

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen(self.figures))


def shown(app: App[None], selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    assert widget.display and widget.region.height > 0, f"{selector} is not visible"
    content = widget.content
    return content.plain if isinstance(content, Content) else str(content)


async def test_the_dashboard_shows_the_figures_of_the_report(catalogue: Catalogue) -> None:
    app = DashboardApp(compute_figures(catalogue, today=TODAY))
    async with app.run_test(size=(120, 50)):
        assert isinstance(app.screen, DashboardScreen)
        assert shown(app, "#as-of") == "Übersicht · Stand 23.02.2021"
        assert shown(app, "#totals") == ("49 Maßnahmen · 37 aus dem Maßnahmenkatalog 2019 · 12 neu")
        assert shown(app, "#status-totals") == (
            "E Etabliert: 9 · Z Im Zeitplan: 20 · V Verzögert: 9 · P In Planung: 8 · "
            "L In die Linie übergeben: 2 · X Verworfen: 1"
        )
        fields = shown(app, "#fields").splitlines()
        assert fields[:2] == [
            "1 E-Government (Digitale Bürger- und Unternehmensservices) – 16 Maßnahmen",
            "EEEEEEZZVVVVPPPL  E 6 · Z 2 · V 4 · P 3 · L 1 · X 0",
        ]
        titles = [line for line in fields if line[:1].isdigit()]
        assert [line.rsplit("– ", 1)[1] for line in titles] == [
            "16 Maßnahmen",
            "8 Maßnahmen",
            "15 Maßnahmen",
            "10 Maßnahmen",
        ]
        assert "XXXX" not in shown(app, "#fields")
        assert fields[fields.index(titles[3]) + 1] == (
            "EZZZZPPPPX        E 1 · Z 4 · V 0 · P 4 · L 0 · X 1"  # bars padded to 16
        )
        assert shown(app, "#delays") == "Corona: 9"
        assert shown(app, "#overdue") == "keine"


async def test_the_dashboard_follows_changes_through_show_figures(catalogue: Catalogue) -> None:
    app = DashboardApp(compute_figures(catalogue, today=TODAY))
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        catalogue.change_status("2.3", Status.DELAYED, delay=DelayInput(cause="Lieferengpass"))
        catalogue.change_status("4.1", Status.DROPPED, reason="entfällt")
        screen.show_figures(compute_figures(catalogue, today=date(2022, 1, 1)))
        await pilot.pause()
        assert "Z Im Zeitplan: 19 · V Verzögert: 10" in shown(app, "#status-totals")
        assert "X Verworfen: 2" in shown(app, "#status-totals")
        assert shown(app, "#delays") == "Corona: 9 · Lieferengpass: 1"
        assert shown(app, "#overdue") == (
            "2.2  Weitere Stadtteile mit öffentlichem WLAN (fällig 2021) – "
            "Masterplan für den Ausbau des öffentlichen WLAN"
        )
        field_4 = shown(app, "#fields").splitlines()[-1]
        assert field_4 == "EZZZZPPPXX        E 1 · Z 4 · V 0 · P 3 · L 0 · X 2"


async def test_escape_returns_to_the_previous_screen(catalogue: Catalogue) -> None:
    app = DashboardApp(compute_figures(catalogue, today=TODAY))
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, DashboardScreen)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # up to the bar's width: one cell per measure
        ({Status.ESTABLISHED: 3, Status.DROPPED: 1}, {Status.ESTABLISHED: 3, Status.DROPPED: 1}),
        # larger fields are scaled, and a lone dropped measure still shows
        (
            {Status.ON_SCHEDULE: 198, Status.DROPPED: 1, Status.PLANNING: 1},
            {Status.ON_SCHEDULE: 38, Status.DROPPED: 1, Status.PLANNING: 1},
        ),
        (
            {Status.ON_SCHEDULE: 50, Status.DELAYED: 30},
            {Status.ON_SCHEDULE: 25, Status.DELAYED: 15},
        ),
    ],
)
def test_bar_cells(counts: dict[Status, int], expected: dict[Status, int]) -> None:
    cells = bar_cells(counts, 40)
    assert {status: n for status, n in cells.items() if n} == expected
    assert sum(cells.values()) == min(40, sum(counts.values()))
