"""Modal dialogs: each returns a small dataclass (or None when cancelled)."""

from koordinator.tui.dialogs.confirm_dialog import ConfirmDialog
from koordinator.tui.dialogs.delay_dialog import DelayDialog
from koordinator.tui.dialogs.export_dialog import ExportDialog
from koordinator.tui.dialogs.form import FormDialog
from koordinator.tui.dialogs.measure_dialog import MeasureDialog, MeasureInput
from koordinator.tui.dialogs.milestone_dialog import MilestoneDialog, NewMilestone
from koordinator.tui.dialogs.resolve_dialog import DelayResolution, ResolveDialog
from koordinator.tui.dialogs.status_dialog import STATUS_KEYS, StatusChange, StatusDialog

__all__ = [
    "STATUS_KEYS",
    "ConfirmDialog",
    "DelayDialog",
    "DelayResolution",
    "ExportDialog",
    "FormDialog",
    "MeasureDialog",
    "MeasureInput",
    "MilestoneDialog",
    "NewMilestone",
    "ResolveDialog",
    "StatusChange",
    "StatusDialog",
]
