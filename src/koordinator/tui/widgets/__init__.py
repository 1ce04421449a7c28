"""Reusable widgets: they get plain data and post messages; none touches the database."""

from koordinator.tui.widgets.measure_table import MeasureTable

__all__ = ["MeasureTable"]
