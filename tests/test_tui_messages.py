"""What the UI's widgets tell the screen, seen through Pilot's `message_hook` (Textual's
public test API): the message a key sends is the user's intention, and the screen does what
it says -- so a key bound to the wrong thing fails here even if the screen happens to look
right."""

from __future__ import annotations

from typing import TypeVar

import pytest
from textual.message import Message

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.workflow import Status
from koordinator.tui.app import make_app
from koordinator.tui.screens.main import StatusFilter
from koordinator.tui.widgets import FieldList, FilterInput, StatusLine
from tui_helpers import row_numbers, status_word, type_text

MessageT = TypeVar("MessageT", bound=Message)


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"  # the form `koordinator` starts its UI with (conftest.py)


class Recorder:
    """Every message posted, once: a bubbling message reaches the hook at each hop."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        if not any(message is seen for seen in self.messages):
            self.messages.append(message)

    def of(self, kind: type[MessageT]) -> list[MessageT]:
        return [message for message in self.messages if isinstance(message, kind)]


async def test_enter_in_the_field_pane_says_which_field(catalogue: CatalogueApi) -> None:
    seen = Recorder()
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40), message_hook=seen) as pilot:
        await pilot.press("shift+tab", "down", "down", "down", "enter")  # Alle, 1, 2, 3
        await pilot.pause()
        chosen = seen.of(FieldList.Chosen)
        assert [m.field_code for m in chosen] == [3]
        assert {number.split(".")[0] for number in row_numbers(app)} == {"3"}


async def test_f_and_a_letter_ask_for_that_status_only(catalogue: CatalogueApi) -> None:
    seen = Recorder()
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40), message_hook=seen) as pilot:
        await pilot.press("f", "v")
        await pilot.pause()
        answers = [m.value for m in seen.of(StatusLine.Answered)]
        assert answers == [StatusFilter(Status.DELAYED)]
        shown = row_numbers(app)
        assert len(shown) == 9  # the report's 9 delayed measures
        assert {status_word(app, number) for number in shown} == {Status.DELAYED.label}


async def test_the_filter_box_says_whether_it_was_kept_or_cleared(
    catalogue: CatalogueApi,
) -> None:
    seen = Recorder()
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40), message_hook=seen) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "Chatbot")
        await pilot.press("enter")
        await pilot.pause()
        assert row_numbers(app) == ["1.6"]
        await pilot.press("slash", "escape")
        await pilot.pause()
        finished = [m.cleared for m in seen.of(FilterInput.Finished)]
        assert finished == [False, True]
        assert len(row_numbers(app)) == 49
