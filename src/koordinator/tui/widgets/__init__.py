"""Reusable widgets: they get plain data and post messages; none touches the database."""

from koordinator.tui.widgets.field_list import FieldList
from koordinator.tui.widgets.filter_input import FilterInput
from koordinator.tui.widgets.key_footer import KeyFooter
from koordinator.tui.widgets.measure_details import MeasureDetails
from koordinator.tui.widgets.measure_table import MeasureTable
from koordinator.tui.widgets.status_line import StatusLine

__all__ = ["FieldList", "FilterInput", "KeyFooter", "MeasureDetails", "MeasureTable", "StatusLine"]
