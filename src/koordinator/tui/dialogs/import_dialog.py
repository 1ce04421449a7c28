"""Ask which snapshot file to import: a name in the export folder, or any path.

Returns the path of an existing file, or None on `Esc`; the screen that opened it imports
(koordinator.core.snapshot.import_snapshots) and shows what the import did.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Input, Label

from koordinator.tui.dialogs.form import FormDialog, FormError, labelled_input
from koordinator.tui.user_text import user_text


class ImportDialog(FormDialog[Path | None]):
    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory.resolve()

    def compose_dialog(self) -> ComposeResult:
        yield Label("Snapshot importieren", classes="dialog-title")
        yield Label(user_text(f"Ordner: {self.directory}"), classes="dialog-subtitle")
        yield from labelled_input(
            "Datei", "filename", placeholder="z. B. koordinator-2021-02-23.toml", required=True
        )

    def on_mount(self) -> None:
        self.query_one("#filename", Input).focus()

    def collect(self) -> Path:
        path = self.file_path("filename", self.directory, required="Datei")
        if not path.is_file():
            what = "ist keine Datei" if path.exists() else "gibt es nicht"
            raise FormError("filename", f"{path} {what}")
        return path
