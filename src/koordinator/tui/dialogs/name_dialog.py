"""Who is writing: asked at the first start when nobody said (no name in the settings, no
`--as`, no KOORDINATOR_USER), so that changes are not signed with the login ("root")."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from koordinator.tui.dialogs.form import FormDialog, labelled_input


class NameDialog(FormDialog[str | None]):
    """The name to sign changes with; an empty one is refused beside the field.  Esc
    dismisses with None: the app then ends, having written nothing."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label("Wer arbeitet hier?", classes="dialog-title")
            yield Static(
                "Jede Änderung wird mit Ihrem Namen unterschrieben (in der Historie und im "
                "Export). Er wird in den Einstellungen gespeichert und gilt von da an; "
                "für einen einzelnen Aufruf gilt --as NAME.",
                classes="dialog-subtitle",
            )
            yield from labelled_input(
                "Ihr Name", "name", placeholder="z. B. Erika Mustermann", required=True
            )
            yield Static("Enter übernimmt · Esc beendet koordinator", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#name").focus()

    def collect(self) -> str:
        return self.text("name", required="Name")
