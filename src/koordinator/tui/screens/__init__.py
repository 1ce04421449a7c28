"""Full screens of the UI."""

from koordinator.tui.screens.main import MainScreen

__all__ = ["MainScreen"]
