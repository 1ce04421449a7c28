"""The terminal UI starts on a database and shows its measures."""

from __future__ import annotations

import pytest

from koordinator.core.catalogue import CatalogueApi
from koordinator.tui.app import make_app
from koordinator.tui.widgets import MeasureTable


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"  # the form `koordinator` starts its UI with (conftest.py)


async def test_main_screen_lists_the_catalogue(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(MeasureTable)
        assert table.row_count == 49
        assert str(table.get_row("1.1")[1]) == "Etabliert"
        await pilot.press("q")
    assert app.return_code == 0
