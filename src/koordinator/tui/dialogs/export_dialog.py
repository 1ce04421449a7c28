"""Ask where to write the snapshot: proposes `koordinator-YYYY-MM-DD.toml` in the export
folder (the settings' `export_folder`, given by the screen that opens it).

Returns the chosen path (relative names are taken in `directory`), or None on `Esc`.  It only
asks, and refuses what the writer would refuse (koordinator.core.files.destination: a folder,
a missing folder, a link into one); the screen that opened it asks before replacing an
existing file, writes it (koordinator.core.snapshot.export_to_file) and says where it went.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.core.dates import local_today
from koordinator.core.errors import OutputFileError
from koordinator.core.files import destination
from koordinator.tui.dialogs.form import FormDialog, FormError, labelled_input
from koordinator.tui.user_text import user_text


def proposed_name(today: date) -> str:
    return f"koordinator-{today.isoformat()}.toml"


class ExportDialog(FormDialog[Path | None]):
    """Also used for the report (`title`, `name`): any "save as" with a proposed file name."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        today: date | None = None,
        title: str = "Snapshot exportieren",
        name: str | None = None,
    ) -> None:
        super().__init__()
        # Resolved now: the folder shown is the folder written to, even if the cwd changes.
        self.directory = (directory or Path.cwd()).resolve()
        self.today = today or local_today()
        self.title_text = title
        self.proposed = name or proposed_name(self.today)

    def compose_dialog(self) -> ComposeResult:
        yield Label(self.title_text, classes="dialog-title")
        yield Label(user_text(f"Ordner: {self.directory}"), classes="dialog-subtitle")
        yield from labelled_input("Dateiname", "filename", value=self.proposed, required=True)

    def on_mount(self) -> None:
        self.query_one("#filename", Input).focus()

    def collect(self) -> Path:
        path = self.file_path("filename", self.directory, required="Dateiname")
        try:
            # The writer's own check: a dialog that closes promises a file that can be written.
            destination(path)
        except OutputFileError as error:
            raise FormError("filename", str(error)) from None
        return path
