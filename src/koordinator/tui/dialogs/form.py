"""The shared shape of koordinator's dialogs: labelled inputs, errors next to the field.

A dialog validates with the core's pure functions (dates, workflow requirements, the rule
for texts) before it closes: invalid input is shown beside its field and the dialog stays
open, so nothing is written.  `Enter` saves, `Esc` cancels (dismisses with None).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from koordinator.core.dates import LooseDate, happened_on, local_today
from koordinator.core.errors import InputError
from koordinator.core.text import text_problem
from koordinator.core.workflow import delay_start
from koordinator.tui.user_text import user_text

ResultType = TypeVar("ResultType")

DATE_HINT = "z. B. 2021, 06/2021, 30.06.2021"


class FormError(Exception):
    """Raised while collecting a form: which input is wrong and why."""

    def __init__(self, input_id: str, message: str) -> None:
        super().__init__(message)
        self.input_id = input_id


def labelled_input(
    label: str, input_id: str, *, value: str = "", placeholder: str = "", required: bool = False
) -> ComposeResult:
    """A label, the input, and the (initially empty) error line beside it."""
    yield Label(f"{label}{' *' if required else ''}", classes="field-label")
    yield Input(value=value, placeholder=placeholder, id=input_id)
    yield Static("", id=f"{input_id}-error", classes="field-error")


class FormDialog(ModalScreen[ResultType]):
    """Base for dialogs: subclasses compose their fields and implement `collect`."""

    BINDINGS = [Binding("escape", "cancel", "Abbrechen", id="cancel")]

    def compose_dialog(self) -> ComposeResult:  # pragma: no cover - overridden
        yield from ()

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield from self.compose_dialog()
            yield Static("Enter speichert · Esc bricht ab", classes="dialog-hint")

    def collect(self) -> ResultType:
        """Read and validate the inputs; raise FormError for the first wrong one."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        for error in self.query(".field-error").results(Static):
            error.update("")
            error.remove_class("-shown")
        try:
            result = self.collect()
        except FormError as problem:
            error = self.query_one(f"#{problem.input_id}-error", Static)
            error.update(user_text(str(problem)))
            error.add_class("-shown")
            self.query_one(f"#{problem.input_id}", Input).focus()
            return
        self.dismiss(result)

    # --- reading inputs ------------------------------------------------------------------

    def text(self, input_id: str, *, required: str | None = None) -> str:
        value = self.query_one(f"#{input_id}", Input).value.strip()
        if required and not value:
            raise FormError(input_id, f"{required} fehlt")
        # The catalogue's rule for a single-line text (an input holds one line), with its
        # words: refused beside the field instead of after the dialog has closed.
        problem = text_problem(value)
        if problem:
            raise FormError(input_id, problem)
        return value

    def file_path(self, input_id: str, directory: Path, *, required: str) -> Path:
        """The file named in the input: `~` expanded, a relative name taken in `directory`."""
        path = Path(self.text(input_id, required=required)).expanduser()
        return path if path.is_absolute() else directory / path

    def delay_period(
        self, since_id: str, until_id: str, *, start: LooseDate | None = None
    ) -> tuple[LooseDate | None, LooseDate | None]:
        """ "Seit" and "bis" of a delay; "bis" before "seit" (or before `start`, where an
        empty "seit" begins, today unless given) is refused."""
        since, until = self.date(since_id), self.date(until_id)
        try:
            delay_start(since or start, until, local_today())
        except InputError:
            begin = since or start
            start_text = begin.german() if begin else "heute"
            raise FormError(until_id, f"„bis“ liegt vor „seit“ ({start_text})") from None
        return since, until

    def happened(self, input_id: str) -> LooseDate:
        """The date something happened on (empty: today); one after today is refused beside
        its field, by the rule the catalogue refuses it with."""
        try:
            return happened_on(self.date(input_id), local_today(), what="Datum")
        except InputError as error:
            raise FormError(input_id, str(error)) from None

    def today_input(self, label: str, input_id: str = "on") -> ComposeResult:
        """The labelled input of the date something happened on, today filled in."""
        today = LooseDate.from_date(local_today()).german()
        yield from labelled_input(label, input_id, value=today, placeholder=DATE_HINT)

    def date(self, input_id: str) -> LooseDate | None:
        value = self.text(input_id)
        try:
            return LooseDate.parse_optional(value, field="Datum")
        except InputError:
            raise FormError(input_id, f"„{value}“ ist kein Datum – {DATE_HINT}") from None
