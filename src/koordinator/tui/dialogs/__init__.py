"""Modal dialogs: each returns a small dataclass (or None when cancelled).

The names below are imported on first use (PEP 562), not with the package: no dialog is
on the first screen, and their modules and widgets (Select, RadioSet, …) would otherwise
be imported before the first paint.  `from koordinator.tui.dialogs import StatusDialog`
works as usual (it imports that dialog's module then); the main screen refers to
`dialogs.StatusDialog` so that it imports a dialog only when it opens one.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from koordinator.tui.dialogs.confirm_dialog import ConfirmDialog
    from koordinator.tui.dialogs.delay_dialog import DelayDialog
    from koordinator.tui.dialogs.export_dialog import ExportDialog
    from koordinator.tui.dialogs.form import FormDialog
    from koordinator.tui.dialogs.import_dialog import ImportDialog
    from koordinator.tui.dialogs.measure_dialog import MeasureDialog, MeasureInput
    from koordinator.tui.dialogs.milestone_dialog import MilestoneDialog, NewMilestone
    from koordinator.tui.dialogs.name_dialog import NameDialog
    from koordinator.tui.dialogs.reached_dialog import MilestoneReached, ReachedDialog
    from koordinator.tui.dialogs.renumber_dialog import RenumberDialog
    from koordinator.tui.dialogs.resolve_dialog import DelayResolution, ResolveDialog
    from koordinator.tui.dialogs.row_chooser import RowChoice, RowChooser
    from koordinator.tui.dialogs.status_dialog import StatusChange, StatusDialog

# Public name -> the module (in this package) that defines it.
_MODULES = {
    "ConfirmDialog": "confirm_dialog",
    "DelayDialog": "delay_dialog",
    "DelayResolution": "resolve_dialog",
    "ExportDialog": "export_dialog",
    "FormDialog": "form",
    "ImportDialog": "import_dialog",
    "MeasureDialog": "measure_dialog",
    "MeasureInput": "measure_dialog",
    "MilestoneDialog": "milestone_dialog",
    "NewMilestone": "milestone_dialog",
    "NameDialog": "name_dialog",
    "MilestoneReached": "reached_dialog",
    "ReachedDialog": "reached_dialog",
    "RenumberDialog": "renumber_dialog",
    "ResolveDialog": "resolve_dialog",
    "RowChoice": "row_chooser",
    "RowChooser": "row_chooser",
    "StatusChange": "status_dialog",
    "StatusDialog": "status_dialog",
}

__all__ = [
    "ConfirmDialog",
    "DelayDialog",
    "DelayResolution",
    "ExportDialog",
    "FormDialog",
    "ImportDialog",
    "MeasureDialog",
    "MeasureInput",
    "MilestoneDialog",
    "MilestoneReached",
    "NameDialog",
    "NewMilestone",
    "ReachedDialog",
    "RenumberDialog",
    "ResolveDialog",
    "RowChoice",
    "RowChooser",
    "StatusChange",
    "StatusDialog",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULES])
