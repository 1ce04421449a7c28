"""Choose one of a measure's milestones or delays: `Enter` picks it, `Entf` deletes it
(where deleting is offered), `Esc` cancels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from koordinator.tui.user_text import user_text


@dataclass(frozen=True)
class RowChoice:
    row_id: str
    delete: bool = False


class RowChooser(ModalScreen[RowChoice | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Abbrechen", id="cancel"),
        Binding("delete", "delete", "Löschen", id="delete"),
    ]

    def __init__(
        self,
        title: str,
        subtitle: str,
        rows: Sequence[tuple[str, str]],
        *,
        can_delete: bool = False,
    ) -> None:
        """`rows`: (id, one line) each, in the order shown."""
        super().__init__()
        self.title_text = title
        self.subtitle = subtitle
        self.rows = rows
        self.can_delete = can_delete

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(user_text(self.subtitle), classes="dialog-subtitle")
            yield OptionList(*(Option(user_text(text), id=row_id) for row_id, text in self.rows))
            hint = "Enter bearbeitet · Entf löscht" if self.can_delete else "Enter bearbeitet"
            yield Static(f"{hint} · Esc bricht ab", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.can_delete if action == "delete" else True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(RowChoice(event.option.id))

    def action_delete(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id is not None:
            self.dismiss(RowChoice(option.id, delete=True))

    def action_cancel(self) -> None:
        self.dismiss(None)
