"""Change a measure's status: only allowed moves, one letter each, data asked for in place."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from koordinator.core.dates import LooseDate
from koordinator.core.views import MeasureView
from koordinator.core.workflow import DelayInput, Status, allowed_moves, requirements
from koordinator.tui.dialogs.form import DATE_HINT, FormDialog, FormError, labelled_input
from koordinator.tui.marker import MarkedLabel
from koordinator.tui.status_keys import STATUS_KEYS
from koordinator.tui.user_text import user_text


@dataclass(frozen=True)
class StatusChange:
    target: Status
    note: str = ""
    receiving_unit: str = ""
    reason: str = ""
    delay: DelayInput | None = None
    on: LooseDate | None = None  # the day the move happened (None: today)


class StatusDialog(FormDialog[StatusChange | None]):
    """A letter picks the target; if the move needs nothing more it is saved at once.

    Opened from the status line's question with Enter (to choose with the arrow keys or add
    a note), or with `target` when the chosen move needs data (a delay's dates, the
    receiving unit, a reason): that move is then chosen and its first field has the focus.
    """

    BINDINGS = [
        Binding(key, f"choose('{status.value}')", status.label, show=False)
        for status, key in STATUS_KEYS.items()
    ]

    def __init__(self, measure: MeasureView, target: Status | None = None) -> None:
        super().__init__()
        self.measure = measure
        self.moves = allowed_moves(measure.status)
        self.target = target

    def compose_dialog(self) -> ComposeResult:
        yield Label(
            f"Status von {self.measure.number} ändern – jetzt „{self.measure.status.label}“",
            classes="dialog-title",
        )
        yield Label(user_text(self.measure.title), classes="dialog-subtitle")
        yield OptionList(
            # Content, not a markup string: "[z]" would be read as a style tag.  The first
            # move is highlighted, so it starts marked.
            *(Option(_move_label(s, chosen=i == 0), id=s.value) for i, s in enumerate(self.moves)),
            id="moves",
        )
        # Filled in, so that a letter still saves at once; another day is typed first.
        yield from self.today_input("Datum des Wechsels")
        with Vertical(id="delay-fields", classes="conditional"):
            yield from labelled_input("Ursache", "cause", value="Corona", required=True)
            yield from labelled_input(
                "Seit", "since", placeholder=f"Datum des Wechsels – {DATE_HINT}"
            )
            yield from labelled_input(
                "Voraussichtlich bis / neues Ziel", "until", placeholder=DATE_HINT
            )
        with Vertical(id="unit-fields", classes="conditional"):
            yield from labelled_input(
                "Übernehmende Dienststelle",
                "receiving-unit",
                placeholder="z. B. FB 20",
                required=True,
            )
        with Vertical(id="reason-fields", classes="conditional"):
            yield from labelled_input("Begründung", "reason", required=True)
        yield from labelled_input(
            "Anmerkung", "note", placeholder="optional", required=self.measure.status.is_final
        )

    def on_mount(self) -> None:
        self.query_one("#moves", OptionList).focus()
        if self.target in self.moves:
            self.action_choose(self.target.value)
        else:
            self._show_fields_for(self.highlighted_target)

    @property
    def highlighted_target(self) -> Status | None:
        moves = self.query_one("#moves", OptionList)
        if moves.highlighted is None:
            return None
        return _status_of(moves.get_option_at_index(moves.highlighted))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            return Status(str(parameters[0])) in self.moves
        return True

    def action_choose(self, status: str) -> None:
        target = Status(status)
        moves = self.query_one("#moves", OptionList)
        moves.highlighted = self.moves.index(target)
        needs = requirements(self.measure.status, target)
        if needs.anything:
            self._show_fields_for(target)
            first = next(
                selector
                for needed, selector in (
                    (needs.delay, "#since"),
                    (needs.receiving_unit, "#receiving-unit"),
                    (needs.reason, "#reason"),
                    (needs.note, "#note"),
                )
                if needed
            )
            self.query_one(first).focus()
        else:
            self.submit()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        target = _status_of(event.option)
        self._mark(target)
        self._show_fields_for(target)

    def _mark(self, target: Status) -> None:
        """The highlighted move marked "›", not by the highlight's colour alone."""
        moves = self.query_one("#moves", OptionList)
        for index, move in enumerate(self.moves):
            prompt = moves.get_option_at_index(index).prompt
            chosen = move == target
            if not isinstance(prompt, MarkedLabel) or prompt.chosen != chosen:
                moves.replace_option_prompt_at_index(index, _move_label(move, chosen=chosen))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose(str(event.option.id))

    def _show_fields_for(self, target: Status | None) -> None:
        needs = requirements(self.measure.status, target) if target else None
        self.query_one("#delay-fields").display = bool(needs and needs.delay)
        self.query_one("#unit-fields").display = bool(needs and needs.receiving_unit)
        self.query_one("#reason-fields").display = bool(needs and needs.reason)

    def collect(self) -> StatusChange:
        target = self.highlighted_target
        if target is None:
            raise FormError("note", "Bitte zuerst einen Status wählen")
        needs = requirements(self.measure.status, target)
        on = self.happened("on")
        delay = None
        if needs.delay:
            # A delay that came with the move begins on the day of the move.
            since, until = self.delay_period("since", "until", start=on)
            delay = DelayInput(
                cause=self.text("cause", required="Ursache"), since=since, until=until
            )
        return StatusChange(
            target=target,
            note=self.text(
                "note", required="Begründung zum Wiederaufnehmen" if needs.note else None
            ),
            receiving_unit=self.text(
                "receiving-unit",
                required="Übernehmende Dienststelle" if needs.receiving_unit else None,
            ),
            reason=self.text("reason", required="Begründung" if needs.reason else None),
            delay=delay,
            on=on,
        )


def _move_label(move: Status, *, chosen: bool) -> MarkedLabel:
    return MarkedLabel(f"[{STATUS_KEYS[move]}] {move.label}", chosen=chosen)


def _status_of(option: Option) -> Status:
    # Every move is listed with its status code as the option's id.
    assert option.id is not None, option
    return Status(option.id)
