"""The history screen: every change, newest first, filterable by measure, author and period.

The events are read once, in a thread worker (a large catalogue has 100,000 of them); the
filter line narrows them as one types.  A change a merge could not apply is marked
"Konflikt" and shows why; "nur Konflikte" lists only those.  Enter shows the event's
measure on the main screen.  Titles, notes and names are user data, shown as typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Label, Static

from koordinator.core.dates import LooseDate, local_time
from koordinator.core.errors import InputError, KoordinatorError
from koordinator.core.event_filter import EventFilter
from koordinator.tui.user_text import user_text

if TYPE_CHECKING:
    from koordinator.core.catalogue import CatalogueApi
    from koordinator.core.views import EventView

# Rows shown at most: the filter narrows a larger history.
MAX_ROWS = 1000
PERIOD_HINT = "Zeitraum: 2021, 06/2021, 30.06.2021"


class HistoryScreen(Screen[str | None]):
    """Dismissed with the number of the measure to show (Enter on a row), or None."""

    CSS_PATH = "history.tcss"
    BINDINGS = [
        Binding("escape", "close", "Zurück", id="close_history"),
        Binding("ctrl+t", "toggle_conflicts", "nur Konflikte", id="toggle_conflicts"),
    ]

    def __init__(self, catalogue: CatalogueApi) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.events: list[EventView] | None = None  # None: still being read
        self.shown: list[EventView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="history"):
            yield Label("Verlauf – alle Änderungen, neueste zuerst", classes="dialog-title")
            with Horizontal(id="history-filter"):
                yield Input(placeholder="Maßnahme (1.2, 1)", id="measure")
                yield Input(placeholder="von (Name)", id="author")
                yield Input(placeholder=PERIOD_HINT, id="period")
                yield Checkbox("nur Konflikte", id="conflicts")
            yield Static("", id="period-error", classes="field-error")
            yield Static("Verlauf wird gelesen …", id="history-count")
            table: DataTable[object] = DataTable(id="events", cursor_type="row", zebra_stripes=True)
            yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#events", DataTable)
        table.add_columns("Zeit", "Maßnahme", "Von", "Änderung")
        table.focus()
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _read(self) -> None:
        try:
            events = self.catalogue.history()
        except KoordinatorError as error:
            self.app.call_from_thread(self._unreadable, str(error))
            return
        self.app.call_from_thread(self._arrived, events)

    def _unreadable(self, message: str) -> None:
        self.query_one("#history-count", Static).update(user_text(message))

    def _arrived(self, events: list[EventView]) -> None:
        self.events = events
        self._show()

    def current_filter(self) -> EventFilter:
        """The filter line as an EventFilter; a period that is no date is shown beside it
        and left out."""
        error = self.query_one("#period-error", Static)
        text = self.query_one("#period", Input).value.strip()
        period = None
        try:
            period = LooseDate.parse_optional(text, field="Zeitraum")
            error.update("")
            error.remove_class("-shown")
        except InputError:
            error.update(user_text(f"„{text}“ ist kein Zeitraum – {PERIOD_HINT}"))
            error.add_class("-shown")
        return EventFilter(
            number=self.query_one("#measure", Input).value,
            author=self.query_one("#author", Input).value,
            period=period,
            conflicts_only=self.query_one("#conflicts", Checkbox).value,
        )

    def _show(self) -> None:
        if self.events is None:
            return
        shown = self.current_filter().apply(self.events)
        self.shown = shown[:MAX_ROWS]
        table = self.query_one("#events", DataTable)
        table.clear()
        for index, event in enumerate(self.shown):
            table.add_row(
                local_time(event.occurred_at),
                user_text(event.number),
                user_text(event.author),
                user_text(event.shown, "bold" if event.conflict else ""),
                key=str(index),
            )
        conflicts = sum(1 for event in shown if event.conflict)
        count = f"{len(shown)} von {len(self.events)} Änderungen"
        if conflicts:
            count += f", davon {conflicts} Konflikt{'' if conflicts == 1 else 'e'}"
        if len(shown) > MAX_ROWS:
            count += f" – die neuesten {MAX_ROWS} gezeigt, der Filter grenzt ein"
        self.query_one("#history-count", Static).update(count)

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _filter_changed(self) -> None:
        self._show()

    @on(Input.Submitted)
    def _filter_submitted(self) -> None:
        self.query_one("#events", DataTable).focus()

    @on(DataTable.RowSelected, "#events")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        index = int(event.row_key.value or 0)
        self.dismiss(self.shown[index].number)

    def action_toggle_conflicts(self) -> None:
        self.query_one("#conflicts", Checkbox).toggle()

    def action_close(self) -> None:
        self.dismiss(None)
