"""The measures table: number, title, status (as a word), responsible unit."""

from __future__ import annotations

from textual.widgets import DataTable

from koordinator.core.views import MeasureView


class MeasureTable(DataTable[str]):
    """Shows a list of measures; the row key is the measure number."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("Nr", key="number")
        self.add_column("Titel", key="title")
        self.add_column("Status", key="status")
        self.add_column("Verantwortlich", key="unit")

    def show_measures(self, measures: list[MeasureView]) -> None:
        self.clear()
        for measure in measures:
            self.add_row(
                measure.number,
                measure.title,
                measure.status.label,
                measure.unit,
                key=measure.number,
            )
