"""Pilot tests of the main screen's reading keys: moving, panes, fields, filter, sorting.

Reading never writes: each test also checks that the database holds no new history event.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rich.style import Style
from rich.text import Text
from textual.pilot import Pilot

from koordinator.core.catalogue import CatalogueApi
from koordinator.core.lazy_catalogue import LazyCatalogue, open_lazy
from koordinator.core.numbers import number_key
from koordinator.core.service import Catalogue
from koordinator.tui.app import make_app
from koordinator.tui.widgets import FieldList, FilterInput, MeasureDetails, MeasureTable
from koordinator.tui.widgets.measure_table import COLUMNS
from snapshot_helpers import benchmark_generator
from tui_helpers import (
    HEADER_LINES,
    NUMBER,
    STATUS,
    TITLE,
    PaintedRow,
    Terminal,
    assert_terminal_shows_the_screen,
    current_number,
    details_text,
    details_title,
    field_labels,
    fill,
    highlighted,
    main_screen,
    other_catalogue,
    painted_rows,
    read_measure,
    row_numbers,
    screen_text,
    table,
    type_text,
    wait_until,
)

ALL = 49
SIZE = (120, 40)


@pytest.fixture
def catalogue_form() -> str:
    return "lazy"  # the form `koordinator` starts its UI with (conftest.py)


def by_title(catalogue: CatalogueApi) -> list[str]:
    measures = catalogue.list_measures()
    return [
        m.number for m in sorted(measures, key=lambda m: (m.title.lower(), number_key(m.number)))
    ]


def sorted_by(measures: MeasureTable) -> str:
    """The sort column, checked against the table's title (which names it)."""
    assert f"sortiert nach {dict(COLUMNS)[measures.sort_column]}" in str(measures.border_title)
    return measures.sort_column


def history_size(catalogue: CatalogueApi) -> int:
    return len(catalogue.history())


async def test_movement_keys_move_the_row_and_the_details_follow(
    catalogue: CatalogueApi, sample_path: Path
) -> None:
    before = history_size(catalogue)
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        assert current_number(app) == "1.1"
        assert details_title(app) == "1.1  Bürgerportal"
        await pilot.press("down")
        assert current_number(app) == "1.2"
        assert details_title(app) == "1.2  Open Data Portal"
        await pilot.press("j", "j")
        assert current_number(app) == "1.4"
        assert details_title(app) == "1.4  Digitales Wahlmanagement"
        await pilot.press("k")
        assert current_number(app) == "1.3"
        assert "Status: Verzögert" in details_text(app)
        await pilot.press("up", "up")
        assert current_number(app) == "1.1"
        assert "Status: Etabliert" in details_text(app)

        await pilot.press("pagedown")
        paged = current_number(app)
        assert paged is not None
        assert row_numbers(app).index(paged) > 5  # a page, not a row
        assert details_title(app).startswith(f"{paged}  ")
        await pilot.press("pageup")
        assert current_number(app) == "1.1"
        await pilot.press("ctrl+end")
        assert current_number(app) == "4.10"
        assert details_title(app) == "4.10  Digitales Semesterticket"
        assert "Status: Verworfen" in details_text(app)
        await pilot.press("ctrl+home")
        assert current_number(app) == "1.1"
        assert details_title(app) == "1.1  Bürgerportal"
    # Moving never writes.
    assert history_size(catalogue) == before
    assert read_measure(sample_path, "1.1").measure.revision == 4


async def test_the_details_pane_paints_the_highlighted_measure_from_its_top(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        assert "1.2  Open Data Portal" in screen_text(app)
        # Scrolled down in the details, then the next measure starts at its top again.
        details = main_screen(app).query_one(MeasureDetails)
        details.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert "1.2  Open Data Portal" not in screen_text(app)
        await pilot.press("j")
        assert details.scroll_y == 0
        assert "1.3  " in screen_text(app)
        assert details_title(app) in screen_text(app)


async def test_a_long_catalogue_shows_every_measure_as_the_cursor_gets_there(
    tmp_path: Path,
) -> None:
    # More measures than the first page (100): rows are added as they are about to be needed.
    path = tmp_path / "long.db"
    benchmark_generator().generate(path, 500, seed=3)
    with other_catalogue(path, author="testerin") as catalogue:
        numbers = [m.number for m in catalogue.list_measures()]
        app = make_app(catalogue)
        terminal = Terminal.attach(app, SIZE)
        async with app.run_test(size=SIZE) as pilot:
            measures = table(app)
            await pilot.press("j")
            assert current_number(app) == numbers[1]
            assert details_title(app).startswith(f"{numbers[1]}  ")
            await wait_until(pilot, lambda: "Maßnahmen (500)" in str(measures.border_title))
            assert "Maßnahmen (500)" in str(measures.border_title)  # the whole list is read
            # Paging down never runs out of rows before the last measure; rows added on the
            # way (which may widen columns) are painted as the table renders them.
            for _ in range(40):
                await pilot.press("pagedown")
                assert highlighted(await painted_in_order(pilot, terminal)) == [current_number(app)]
            assert current_number(app) == numbers[-1]
            assert row_numbers(app) == numbers
            await pilot.press("home")
            assert current_number(app) == numbers[0]
        # "End" goes to the last measure at once; the palette's "go to" reaches any measure.
        app = make_app(catalogue)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: "(500)" in str(table(app).border_title))
            await pilot.press("end")
            assert current_number(app) == numbers[-1]
            assert details_title(app).startswith(f"{numbers[-1]}  ")
        app = make_app(catalogue)
        async with app.run_test(size=(120, 40)) as pilot:
            main_screen(app).go_to(numbers[400])  # its row comes with the whole list
            await wait_until(pilot, lambda: current_number(app) == numbers[400])
            assert current_number(app) == numbers[400]
            assert details_title(app).startswith(f"{numbers[400]}  ")


async def test_at_start_the_whole_list_is_read_once_the_write_side_has_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `koordinator` paints from plain sqlite3 reads and loads SQLAlchemy after that paint;
    # the rest of a long list is read after that load, not beside it (two workers at once
    # slowed the first keys down), and still arrives without a key being pressed.
    path = tmp_path / "long.db"
    benchmark_generator().generate(path, 150, seed=4)
    lazy = open_lazy(str(path), read_only=False, author="testerin")
    assert lazy is not None and not lazy.loaded
    # In this process SQLAlchemy is imported already; the load takes as long as in a fresh
    # `koordinator` (≈ 0.4 s), so that a list read beside it would come first.
    real_load = LazyCatalogue.load

    def slow_load(self: LazyCatalogue) -> Catalogue:
        time.sleep(0.4)
        return real_load(self)

    monkeypatch.setattr(LazyCatalogue, "load", slow_load)
    try:
        numbers = [m.number for m in lazy.list_measures()]
        app = make_app(lazy)
        loaded_when_listed: list[bool] = []

        def whole_list_shown() -> bool:
            shown = "Maßnahmen (150)" in str(table(app).border_title)
            if shown:
                loaded_when_listed.append(lazy.loaded)
            return shown

        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, whole_list_shown)
            assert loaded_when_listed[:1] == [True]
            await pilot.press("end")
            assert current_number(app) == numbers[-1]
            assert details_title(app).startswith(f"{numbers[-1]}  ")
    finally:
        lazy.close()


async def test_home_and_end_move_to_the_first_and_last_measure(catalogue: CatalogueApi) -> None:
    # The key list: "`Home/End` move".  (Strg+Pos1/Strg+Ende also do, see above.)
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("end")
        assert current_number(app) == "4.10"
        assert details_title(app) == "4.10  Digitales Semesterticket"
        await pilot.press("home")
        assert current_number(app) == "1.1"


async def test_tab_cycles_fields_table_details(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.focused, MeasureTable)
        await pilot.press("tab")
        assert isinstance(app.focused, MeasureDetails)
        await pilot.press("tab")
        assert isinstance(app.focused, FieldList)
        await pilot.press("tab")
        assert isinstance(app.focused, MeasureTable)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, FieldList)


async def test_enter_on_a_field_filters_the_table(catalogue: CatalogueApi) -> None:
    before = history_size(catalogue)
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        labels = field_labels(app)
        assert labels[0] == f"Alle ({ALL})"
        assert [label.rsplit(" ", 1)[1] for label in labels[1:]] == [
            "(16)",
            "(8)",
            "(15)",
            "(10)",
        ]
        assert labels[1].startswith("1 E-Government")
        await pilot.press("shift+tab")  # table -> fields
        assert isinstance(app.focused, FieldList)
        await pilot.press("down", "down", "enter")  # "Alle", 1, 2
        measures = table(app)
        assert measures.row_count == 8
        assert all(number.startswith("2.") for number in row_numbers(app))
        assert "Maßnahmen (8)" in str(measures.border_title)
        assert current_number(app) == "2.1"
        assert details_title(app).startswith("2.1  Masterplan")
        await pilot.press("up", "up", "enter")  # back to "Alle"
        assert measures.row_count == ALL
    assert history_size(catalogue) == before


async def test_number_keys_choose_a_field_and_zero_shows_all(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        for key, count in (("1", 16), ("2", 8), ("3", 15), ("4", 10)):
            await pilot.press(key)
            assert table(app).row_count == count, key
            assert {number.split(".")[0] for number in row_numbers(app)} == {key}
            assert details_title(app).startswith(f"{key}.1  ")
            # The list shows which field is chosen.
            fields = main_screen(app).query_one(FieldList)
            assert fields.highlighted == int(key)
        await pilot.press("0")
        assert table(app).row_count == ALL
        assert main_screen(app).query_one(FieldList).highlighted == 0


async def test_filter_as_you_type_by_number_title_unit_and_note(catalogue: CatalogueApi) -> None:
    before = history_size(catalogue)
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        box = main_screen(app).query_one(FilterInput)
        assert box.display and app.focused is box
        # Digits go into the box, not to the field keys 1-4.
        await type_text(pilot, "1.11")
        assert row_numbers(app) == ["1.11"]
        assert field_labels(app)[0] == f"Alle ({ALL})"
        assert main_screen(app).query_one(FieldList).highlighted == 0
        assert details_title(app) == "1.11  LoRaWAN (eigenes Funknetz)"
        await pilot.press("escape")
        assert table(app).row_count == ALL
        assert not box.display
        assert isinstance(app.focused, MeasureTable)

        # A title with an umlaut, typed key by key, in any case.
        await pilot.press("slash")
        await type_text(pilot, "ünfl")
        assert row_numbers(app) == ["2.3"]
        assert details_title(app) == "2.3  Digitales Grünflächenmanagement"
        await pilot.press("escape")
        assert table(app).row_count == ALL

        # The responsible unit, and the note ("3. Preis im Wettbewerb „Leuchttürme …“").
        await pilot.press("slash")
        await fill(pilot, "filter", "Amt 18")
        assert row_numbers(app) == ["1.9"]
        await fill(pilot, "filter", "Leuchttürme")
        assert row_numbers(app) == ["3.6"]
        assert "Leuchttürme" in details_text(app)
        await pilot.press("escape")
        assert table(app).row_count == ALL
    assert history_size(catalogue) == before


async def test_enter_keeps_the_filter_and_escape_in_the_table_clears_it(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        await fill(pilot, "filter", "Feuerwehr")
        await pilot.press("enter")
        assert isinstance(app.focused, MeasureTable)
        assert row_numbers(app) == ["3.5", "3.8", "3.9"]
        box = main_screen(app).query_one(FilterInput)
        assert box.display and box.value == "Feuerwehr"
        # Moving works in the filtered table.
        await pilot.press("down")
        assert details_title(app).startswith("3.8  ")
        await pilot.press("escape")
        assert table(app).row_count == ALL
        assert not box.display and box.value == ""
        assert current_number(app) == "3.8"  # the cursor stays on the measure


async def test_a_filter_that_matches_nothing_shows_an_empty_table(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        await fill(pilot, "filter", "xyzzy")
        assert table(app).row_count == 0
        assert details_text(app).strip() == "Keine Maßnahme ausgewählt."
        # Keys that need a measure do nothing (no dialog, no crash).
        await pilot.press("enter", "s", "d")
        assert app.screen is main_screen(app)
        await pilot.press("escape")
        assert table(app).row_count == ALL


async def test_o_cycles_the_sort_column_and_numbers_sort_numerically(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        measures = table(app)
        numbers = row_numbers(app)
        assert numbers.index("1.2") < numbers.index("1.10") < numbers.index("2.1")
        assert numbers[:3] == ["1.1", "1.2", "1.3"]
        assert numbers[-1] == "4.10"
        assert sorted_by(measures) == "number"

        await pilot.press("o")
        assert sorted_by(measures) == "status"
        statuses = [str(measures.get_row_at(i)[STATUS]) for i in range(measures.row_count)]
        assert statuses[0] == "Etabliert" and statuses[-1] == "Verworfen"
        assert statuses.count("Etabliert") == 9
        # Within one status, still by number.
        established = [
            n for n, s in zip(row_numbers(app), statuses, strict=True) if s == "Etabliert"
        ]
        assert established == ["1.1", "1.5", "1.7", "1.9", "1.12", "1.13", "2.6", "2.7", "4.4"]

        await pilot.press("o")
        assert sorted_by(measures) == "title"
        assert row_numbers(app) == by_title(catalogue)

        await pilot.press("o", "o")  # unit, next milestone
        assert sorted_by(measures) == "milestone"
        assert row_numbers(app)[:2] == ["2.2", "2.4"]  # due 2021, due Ende 2024

        await pilot.press("o")  # open delays first
        assert sorted_by(measures) == "delay"
        assert row_numbers(app)[0] == "1.3"

        await pilot.press("o")  # full circle
        assert sorted_by(measures) == "number"
        assert row_numbers(app) == numbers
        # Sorting keeps the cursor on the measure it was on.
        await pilot.press("down", "o")
        assert current_number(app) == "1.2"
        assert details_title(app) == "1.2  Open Data Portal"


async def test_clicking_a_header_sorts_by_that_column(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        measures = table(app)

        def header_x(label: str) -> int:
            # The border takes one column; each column is a space and its width.
            x = 1
            for shown, width in zip(
                measures.columns.labels(), measures.columns.widths, strict=True
            ):
                if shown == label:
                    return x + 1
                x += width + 1 if width else 0
            raise AssertionError(label)

        await pilot.click(MeasureTable, offset=(header_x("Titel"), 1))
        assert sorted_by(measures) == "title"
        assert row_numbers(app) == by_title(catalogue)

        await pilot.click(MeasureTable, offset=(header_x("Nr"), 1))
        assert sorted_by(measures) == "number"
        numbers = row_numbers(app)
        assert numbers.index("1.2") < numbers.index("1.10")
        assert [str(measures.get_row_at(i)[NUMBER]) for i in range(3)] == ["1.1", "1.2", "1.3"]


# --- what the terminal is sent ------------------------------------------------------------
# The table renders a line again only if its cursor or hover state changed (and the details
# only for a new measure): these tests check what was painted on the terminal, row by row,
# against what the screen shows and what DataTable itself would render (painted_rows).


async def painted_in_order(pilot: Pilot[None], terminal: Terminal) -> list[PaintedRow]:
    """The painted rows, checked to be the table's rows in its order (a run of them)."""
    rows = await painted_rows(pilot, terminal)
    numbers = row_numbers(pilot.app)
    shown = [row.number for row in rows]
    start = numbers.index(shown[0])
    assert shown == numbers[start : start + len(shown)]
    return rows


async def test_a_cursor_move_paints_the_old_row_plain_and_the_new_one_highlighted(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the focus on the table, painted
        assert highlighted(await painted_rows(pilot, terminal)) == ["1.1"]
        keys = ["j", "j", "k", "down", "up", "j"] + ["j"] * 24  # the last ones scroll
        keys += ["pagedown", "pagedown", "pageup", "end", "k", "home", "ctrl+end", "ctrl+home"]
        for key in keys:
            before = current_number(app)
            await pilot.press(key)
            after = current_number(app)
            rows = await painted_in_order(pilot, terminal)
            assert highlighted(rows) == [after], key
            if before != after and before in [row.number for row in rows]:
                assert not next(row for row in rows if row.number == before).cursor, key
        assert current_number(app) == "1.1"


async def test_a_changed_status_is_painted_in_its_row_which_keeps_the_cursor(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        await pilot.press("s", "e")
        await pilot.pause()
        rows = await painted_rows(pilot, terminal)
        assert highlighted(rows) == ["1.2"]
        assert "Etabliert" in rows[1].text and "Im Zeitplan" not in rows[1].text
        # Away and back: the row is painted from the cache with the new status.
        await pilot.press("j", "j", "k", "k")
        rows = await painted_rows(pilot, terminal)
        assert highlighted(rows) == ["1.2"]
        assert "Etabliert" in rows[1].text
        await pilot.press("j")
        rows = await painted_rows(pilot, terminal)
        assert highlighted(rows) == ["1.3"]
        assert "Etabliert" in rows[1].text and not rows[1].cursor


async def test_sorting_filtering_and_a_theme_repaint_every_row(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "j")
        await pilot.press("o")  # by status: 1.3 (Verzögert) moves down, the view with it
        assert highlighted(await painted_in_order(pilot, terminal)) == ["1.3"]
        await pilot.press("j")
        assert highlighted(await painted_rows(pilot, terminal)) == [current_number(app)]
        await pilot.press("o", "o", "o", "o", "o")  # back to numbers
        assert highlighted(await painted_in_order(pilot, terminal)) == [current_number(app)]

        await pilot.press("3")  # a field: other rows at the same lines
        rows = await painted_rows(pilot, terminal)
        assert [row.number for row in rows] == row_numbers(app)
        assert highlighted(rows) == ["3.1"]
        await pilot.press("j")
        assert highlighted(await painted_rows(pilot, terminal)) == ["3.2"]
        await pilot.press("slash")
        await fill(pilot, "filter", "Feuerwehr")
        await pilot.press("enter")
        rows = await painted_rows(pilot, terminal)
        assert [row.number for row in rows] == ["3.5", "3.8", "3.9"]
        assert highlighted(rows) == ["3.5"]
        await pilot.press("escape", "0")
        assert highlighted(await painted_in_order(pilot, terminal)) == [current_number(app)]

        # High contrast: every row in the new colours (checked against DataTable's own
        # rendering and the new cursor colour by painted_rows).
        cursor_before = table(app).get_component_rich_style("measure-table--cursor")
        await pilot.press("c")
        assert table(app).get_component_rich_style("measure-table--cursor") != cursor_before
        assert highlighted(await painted_rows(pilot, terminal)) == [current_number(app)]
        await pilot.press("j")
        assert highlighted(await painted_rows(pilot, terminal)) == [current_number(app)]
        await pilot.press("c")
        assert table(app).get_component_rich_style("measure-table--cursor") == cursor_before
        assert highlighted(await painted_rows(pilot, terminal)) == [current_number(app)]


async def test_the_cursor_row_is_painted_in_the_blurred_style_when_the_table_loses_focus(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        measures = table(app)
        await pilot.press("j")
        focused = measures.get_component_rich_style("measure-table--cursor")
        await pilot.press("tab")  # to the details
        assert not measures.has_focus
        assert measures.get_component_rich_style("measure-table--cursor") != focused
        assert highlighted(await painted_rows(pilot, terminal)) == ["1.2"]
        await pilot.press("shift+tab")
        assert measures.get_component_rich_style("measure-table--cursor") == focused
        assert highlighted(await painted_rows(pilot, terminal)) == ["1.2"]
        await pilot.press("j")
        assert highlighted(await painted_rows(pilot, terminal)) == ["1.3"]


async def test_the_mouse_hover_leaves_no_row_painted_behind(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        measures = table(app)

        async def hovered() -> list[str]:
            return [row.number for row in await painted_rows(pilot, terminal) if row.hover]

        # Offsets are in the table (its border is one line, the header another).
        await pilot.hover(MeasureTable, offset=(3, 6))  # the row of 1.5
        await pilot.hover(MeasureTable, offset=(40, 6))  # the same row, another column
        assert await hovered() == ["1.5"]
        await pilot.hover(MeasureTable, offset=(40, 8))  # 1.7, in another column
        assert await hovered() == ["1.7"]
        await pilot.hover(MeasureTable, offset=(3, 3))  # 1.2
        assert await hovered() == ["1.2"]
        await pilot.press("j")  # keys hide the hover
        rows = await painted_rows(pilot, terminal)
        assert not [row.number for row in rows if row.hover]
        assert highlighted(rows) == ["1.2"]
        await pilot.hover(MeasureTable, offset=(40, 5))  # 1.4
        assert await hovered() == ["1.4"]
        await pilot.hover(MeasureTable, offset=(40, 1))  # the header
        assert await hovered() == []
        assert measures.hover_row == -1
        await pilot.press("j")
        assert highlighted(await painted_rows(pilot, terminal)) == ["1.3"]


async def details_lines_painted(
    pilot: Pilot[None], terminal: Terminal
) -> list[tuple[str, list[Style]]]:
    """The details pane's lines on the terminal: text (without the padding) and the style
    of each character, after checking that the terminal shows what the screen paints."""
    await assert_terminal_shows_the_screen(pilot, terminal)
    region = main_screen(pilot.app).query_one(MeasureDetails).scrollable_content_region
    return [
        (
            terminal.line(y, region.x, region.right).rstrip(),
            [terminal.style(x, y) for x in range(region.x, region.right)],
        )
        for y in range(region.y, region.bottom)
    ]


async def test_the_details_paint_the_title_and_headings_bold(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        lines = await details_lines_painted(pilot, terminal)
        title, styles = lines[0]
        assert title == "1.2  Open Data Portal"
        assert all(style.bold for style in styles[: len(title)])
        assert not any(style.bold for style in styles[len(title) :])  # not the rest of the line
        status, styles = lines[1]
        assert status == "Status: Im Zeitplan"
        assert [bool(style.bold) for style in styles[: len(status)]] == [True] * 8 + [False] * 11
        headings = {
            text: styles for text, styles in lines if text in ("Meilensteine", "Verzögerungen")
        }
        assert headings
        for text, styles in headings.items():
            assert all(style.bold and style.underline for style in styles[: len(text)]), text


async def test_a_note_with_line_breaks_and_tabs_is_painted_on_lines_of_its_own(
    catalogue: CatalogueApi,
) -> None:
    catalogue.edit_measure("1.2", note="erste Zeile\r\nzweite\tZeile\nkurz")
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        texts = [text for text, _ in await details_lines_painted(pilot, terminal)]
        start = texts.index("Notiz: erste Zeile")
        assert texts[start + 1 : start + 3] == ["zweite  Zeile", "kurz"]
        assert texts[start + 3].startswith("Geändert: ")


async def assert_details_painted(pilot: Pilot[None], terminal: Terminal) -> None:
    """The details pane on the terminal reads as Rich wraps the highlighted measure's text:
    every line, not only those the pane repainted for this measure."""
    app = pilot.app
    details = main_screen(app).query_one(MeasureDetails)
    width = details.scrollable_content_region.width
    wrapped = [part.plain.rstrip() for part in Text(details_text(app)).wrap(app.console, width)]
    top = round(details.scroll_y)
    painted = [text for text, _ in await details_lines_painted(pilot, terminal)]
    expected = (wrapped + [""] * len(painted))[top : top + len(painted)]
    assert painted == expected
    await assert_terminal_shows_the_screen(pilot, terminal)  # styles too, the border's


async def test_the_details_are_painted_whole_for_every_measure(catalogue: CatalogueApi) -> None:
    # The pane repaints only the lines that differ from the last measure's: the others
    # must be the same on the terminal too.
    catalogue.edit_measure("1.3", note="Zeile eins\nZeile zwei\n\nnach einer Leerzeile")
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await assert_details_painted(pilot, terminal)
        for key in ["j"] * (ALL - 1) + ["k"] * 5 + ["home", "end", "pageup", "home"]:
            await pilot.press(key)
            await assert_details_painted(pilot, terminal)
        details = main_screen(app).query_one(MeasureDetails)
        details.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        await assert_details_painted(pilot, terminal)
        await pilot.press("j")  # from a scrolled pane
        assert details.scroll_y == 0
        await assert_details_painted(pilot, terminal)
        await pilot.press("o", "2", "j", "slash")
        await fill(pilot, "filter", "xyzzy")  # nothing: "Keine Maßnahme ausgewählt."
        await assert_details_painted(pilot, terminal)
        await fill(pilot, "filter", "")
        await assert_details_painted(pilot, terminal)
        await pilot.press("escape", "c", "j")
        await assert_details_painted(pilot, terminal)


async def test_brackets_in_a_title_are_shown_as_typed_not_read_as_markup(
    catalogue: CatalogueApi,
) -> None:
    # "[/]" made Rich's markup parser raise (the app crashed), "[Beta]" vanished as a style.
    catalogue.edit_measure("1.2", title="Portal [Beta] [/] [bold]x[/bold]")
    catalogue.edit_measure("1.3", unit="[FB 12]")
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = await painted_rows(pilot, terminal)
        assert "Portal [Beta] [/] [bold]x[/bo" in rows[1].text  # as typed, clipped
        assert "[FB 12]" in rows[2].text
        assert str(table(app).get_row("1.2")[TITLE]) == "Portal [Beta] [/] [bold]x[/bold]"
        await pilot.press("j", "o", "o")  # by title
        assert current_number(app) == "1.2"
        assert "Portal [Beta]" in details_title(app)
        assert highlighted(await painted_in_order(pilot, terminal)) == ["1.2"]


async def test_wide_and_combining_characters_are_painted_in_table_and_details(
    catalogue: CatalogueApi,
) -> None:
    catalogue.edit_measure("1.2", title="Daten 漢字 Cafe\u0301", note="漢字 " * 40)
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("j", "j", "k", "k"):
            await pilot.press(key)
            assert highlighted(await painted_in_order(pilot, terminal)) == [current_number(app)]
            await assert_details_painted(pilot, terminal)
            if current_number(app) == "1.2":
                assert details_title(app) == "1.2  Daten 漢字 Cafe\u0301"


async def test_a_resized_terminal_is_painted_whole_in_either_layout(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "j")
        # Wide (details beside the table), narrow, and back; a move after each.
        for size, expected in (((160, 40), "1.4"), ((90, 30), "1.5"), (SIZE, "1.6")):
            terminal.resize(*size)
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert highlighted(await painted_in_order(pilot, terminal)) == [current_number(app)]
            await assert_details_painted(pilot, terminal)
            await pilot.press("j")
            assert current_number(app) == expected
            assert highlighted(await painted_in_order(pilot, terminal)) == [expected]
            await assert_details_painted(pilot, terminal)


async def test_a_cursor_move_sends_only_the_two_rows_and_the_changed_detail_lines(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):  # until the start-up paints (focus, sizes) are done
            terminal.written.clear()
            await pilot.pause(0.05)
            if not terminal.written:
                break
        measures = table(app)
        details = main_screen(app).query_one(MeasureDetails)
        first_row = measures.scrollable_content_region.y + HEADER_LINES
        for key, rows in (("j", {0, 1}), ("j", {1, 2}), ("k", {1, 2})):
            terminal.written.clear()
            await pilot.press(key)
            assert highlighted(await painted_in_order(pilot, terminal)) == [current_number(app)]
            in_table = {y for y in terminal.written if y in measures.region.line_range}
            assert in_table == {first_row + row for row in rows}, key
            # Of the details, at most its content lines (not its border with the title).
            in_details = {y for y in terminal.written if y in details.region.line_range}
            content = details.scrollable_content_region
            assert in_details and all(content.y <= y < content.bottom for y in in_details)


# --- 80x24: the field pane gives way to the list --------------------------------------------


async def test_at_80_columns_the_list_shows_number_status_title_unit_and_date(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        text = screen_text(app)
        # The field pane is one line above the list; the keys choose a field.
        assert not main_screen(app).query_one(FieldList).display
        assert "Handlungsfeld: 2 Intelligente Digitale Infrastruktur (8)" in text
        assert "0–4: Feld wählen" in text
        line = next(line for line in text.splitlines() if "│ 2.2 " in line)
        for shown in ("Im Zeitplan", "Masterplan für den Ausbau", "FB 12", "überf. 2021"):
            assert shown in line, shown
        line = next(line for line in text.splitlines() if "│ 2.4 " in line)
        assert "überf. 31.12.2024" in line  # the whole date
        # All of it without sideways scrolling.
        measures = table(app)
        assert measures.max_scroll_x == 0
        assert all(len(measures.line_text(n)) <= measures.size.width for n in row_numbers(app))
        await pilot.press("0")
        assert "Handlungsfeld: Alle (49)" in screen_text(app)


async def test_at_120_columns_the_field_pane_and_the_milestone_titles_are_there(
    catalogue: CatalogueApi,
) -> None:
    app = make_app(catalogue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        text = screen_text(app)
        assert main_screen(app).query_one(FieldList).display
        assert "Handlungsfelder" in text and "0–4: Feld wählen" not in text
        header = next(line for line in text.splitlines() if "│ Nr " in line)
        assert "Nächster Meilenstein" in header and "Verz." in header
        line = next(line for line in text.splitlines() if "│ 2.2 " in line)
        for shown in ("Im Zeitplan", "Masterplan für den Ausbau", "FB 12", "überfällig 2021 Weit"):
            assert shown in line, shown
        assert table(app).max_scroll_x == 0


async def test_a_click_on_a_row_selects_its_measure(catalogue: CatalogueApi) -> None:
    app = make_app(catalogue)
    terminal = Terminal.attach(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        # The border is one line, the header another: the fourth row is at y = 5.
        await pilot.click(MeasureTable, offset=(10, 5))
        assert current_number(app) == "1.4"
        assert details_title(app) == "1.4  Digitales Wahlmanagement"
        assert highlighted(await painted_rows(pilot, terminal)) == ["1.4"]
        await pilot.click(MeasureTable, offset=(10, 2))
        assert current_number(app) == "1.1"
