"""The details pane's own wrapping and segments against Rich's Text, cell by cell.

MeasureDetails builds its lines as (text, style) spans, keeps a line that fits as it is and
wraps the others with Rich's Text.wrap; what it paints must be what Text.wrap and
Text.render paint.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from koordinator.core.service import Catalogue
from koordinator.tui.widgets.measure_details import (
    BOLD,
    DIM,
    HEADING,
    Line,
    detail_lines,
    render_strip,
    wrap,
)
from snapshot_helpers import benchmark_generator
from tui_helpers import cells, other_catalogue

CONSOLE = Console(width=200, color_system="truecolor")
PANE = Style.parse("#e0e0e0 on #1e1e1e")


def painted(text: Line, width: int) -> list[list[tuple[str, Style]]]:
    """What the pane paints for `text` at `width`."""
    return cells(render_strip(part, width, PANE) for part in wrap(text, width, CONSOLE))


def painted_by_rich(text: Line, width: int) -> list[list[tuple[str, Style]]]:
    """What Rich's Text painted for the same spans (the pane before it built spans)."""
    rich_text = Text.assemble(*text)
    plain = rich_text.plain
    parts = (
        rich_text.wrap(CONSOLE, width)
        if rich_text.cell_len > width or "\n" in plain or "\t" in plain
        else [rich_text]
    )
    return cells(
        Strip(list(part.render(CONSOLE, end=""))).crop_extend(0, width, None).apply_style(PANE)
        for part in parts
    )


def test_every_sample_measure_is_painted_as_rich_painted_it(catalogue: Catalogue) -> None:
    names = {field.code: field.name for field in catalogue.fields()}
    for measure in catalogue.list_measures():
        detail = catalogue.measure(measure.number)
        for text in detail_lines(detail, names[measure.field_code]):
            for width in (12, 37, 56, 90):
                assert painted(text, width) == painted_by_rich(text, width), (text, width)


def test_generated_measures_are_painted_as_rich_painted_them(tmp_path: Path) -> None:
    path = tmp_path / "generated.db"
    benchmark_generator().generate(path, 60, seed=7)
    with other_catalogue(path) as catalogue:
        for measure in catalogue.list_measures():
            for text in detail_lines(catalogue.measure(measure.number), "Feld"):
                for width in (20, 52, 90):
                    assert painted(text, width) == painted_by_rich(text, width), (text, width)


WORDS = st.text(alphabet=" abcdefäöü–-.,\t\n\r漢字é\u0301", max_size=30)
SPANS = st.lists(
    st.tuples(WORDS, st.sampled_from([None, BOLD, DIM, HEADING])), min_size=0, max_size=5
)


@settings(max_examples=400, deadline=None)
@given(spans=SPANS, width=st.integers(min_value=1, max_value=40))
# A line that fits in cells but has more characters than the width (a combining accent):
# Text.wrap drops its spaces at the end (once found by hypothesis on a fresh clone).
@example(spans=[("\n", None), ("aaaaaa", None), ("aaaaa\u0301", None), ("aaa ", BOLD)], width=15)
def test_any_text_is_wrapped_and_painted_as_rich_did(
    spans: list[tuple[str, Style | None]], width: int
) -> None:
    text = tuple((piece.replace("\r", ""), style) for piece, style in spans)
    assert painted(text, width) == painted_by_rich(text, width)
