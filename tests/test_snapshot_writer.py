"""The snapshot writer's shortcuts give exactly what tomli-w writes block by block: on
awkward values, and on whole catalogues (the sample, a generated one).

`snapshot._Writer` writes strings without escapes as they are, formats each distinct key
once and lays tables out itself; these properties compare it with the plain way
(`"\\n".join(f"[[array]]\\n" + tomli_w.dumps(values), ...)` and `tomli_w.dumps` of an
event's encoded details) on awkward values: quotes, backslashes, control characters, line
separators other than \\n, "%", "s", 1 next to true, nulls, edits' [old, new] pairs, arrays,
nested and empty tables, arrays of tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from koordinator.core.records import Event
from koordinator.core.snapshot import _encode, _Writer, prepare_export
from snapshot_helpers import benchmark_generator, dumps_with_tomli_w, opened

texts = st.text(
    st.sampled_from(
        [
            "a",
            "ä",
            " ",
            '"',
            "\\",
            "%",
            "s",
            "\n",
            "\r",
            "\t",
            "\x00",
            "\x1f",
            "\x7f",
            "\u2028",
            "\x85",
            "\x1c",
            "[",
            "]",
            "=",
            "#",
            "'",
            "1",
        ]
    ),
    max_size=8,
) | st.text(max_size=12)
keys = (
    st.sampled_from(["id", "title", "done", "a b", "%", "s", "1", "", "ü", "x.y", "_null"]) | texts
)
scalars = st.one_of(texts, st.integers(-3, 3), st.booleans(), st.integers())
# JSON details may hold nulls (written as the `_null` list) and an edit's [old, new] pairs.
nullable = st.one_of(scalars, st.none())
changes = st.dictionaries(keys, st.tuples(nullable, nullable).map(list), min_size=1, max_size=3)
arrays = st.lists(st.one_of(texts, st.integers(0, 2), st.booleans()), max_size=3)
flat = st.dictionaries(keys, scalars, min_size=1, max_size=6)
details = st.recursive(
    st.dictionaries(keys, st.one_of(nullable, arrays), max_size=4),
    lambda children: st.dictionaries(
        keys,
        st.one_of(scalars, arrays, children, st.lists(children, min_size=1, max_size=2)),
        max_size=4,
    ),
    max_leaves=12,
)


def plain(head: dict[str, Any], blocks: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> str:
    texts = [tomli_w.dumps(head)]
    for array, values, extra in blocks:
        text = f"[[{array}]]\n" + tomli_w.dumps(values)
        if extra:
            encoded = _encode(extra, changes=True)
            text += "\n" + tomli_w.dumps({"measures": {"events": {"details": encoded}}})
        texts.append(text)
    return "\n".join(texts)


@settings(max_examples=300, deadline=None)
@given(
    head=st.dictionaries(keys, scalars, max_size=3),
    blocks=st.lists(
        st.tuples(
            st.sampled_from(["fields", "measures", "measures.events"]),
            flat,
            details | st.builds(lambda pairs, rest: {"changes": pairs} | rest, changes, details),
        ),
        max_size=6,
    ),
)
def test_writer_writes_what_tomli_w_writes(
    head: dict[str, Any], blocks: list[tuple[str, dict[str, Any], dict[str, Any]]]
) -> None:
    writer = _Writer()
    writer.text(tomli_w.dumps(head))
    for array, values, extra in blocks:
        writer.block(array, values)
        if extra:
            writer.details(extra)
    assert writer.getvalue() == plain(head, blocks)


event_texts = texts | st.sampled_from(["status_changed", "2020-07-02T11:33:30.676304Z", ""])


@settings(max_examples=200, deadline=None)
@given(
    values=st.tuples(event_texts, event_texts, event_texts, event_texts, event_texts),
    statuses=st.tuples(st.none() | event_texts, st.none() | event_texts),
    extra=details,
)
def test_event_is_written_as_its_table(
    values: tuple[str, ...], statuses: tuple[str | None, str | None], extra: dict[str, Any]
) -> None:
    event = Event(*values[:1], "1.1", *values[1:], *statuses, details=extra)
    writer = _Writer()
    writer.text("")
    writer.event(event)
    table = dict(zip(("id", "kind", "occurred_at", "author", "note"), values, strict=True))
    table |= {
        name: status
        for name, status in zip(("from_status", "to_status"), statuses, strict=True)
        if status is not None
    }
    assert writer.getvalue() == plain({}, [("measures.events", table, extra)])


def test_one_and_true_stay_apart() -> None:
    writer = _Writer()
    writer.text("")
    writer.block("measures", {"field": 1, "done": True, "revision": 0, "x": False})
    writer.details({"a": True, "b": 1, "c": {"d": [1, True]}})
    assert writer.getvalue() == plain(
        {},
        [
            (
                "measures",
                {"field": 1, "done": True, "revision": 0, "x": False},
                {"a": True, "b": 1, "c": {"d": [1, True]}},
            )
        ],
    )


@pytest.mark.parametrize("generated", [0, 300])
def test_a_whole_snapshot_is_byte_for_byte_what_tomli_w_writes(
    sample_path: Path, tmp_path: Path, generated: int
) -> None:
    """The writer on a whole catalogue: the sample, or a generated one with every kind of
    event the generator makes (edits with nulls, delays, conflicts), by an author whose
    name needs escapes."""
    path = sample_path
    if generated:
        path = tmp_path / "generated.db"
        benchmark_generator().generate(path, generated, seed=3)
    with opened(path) as database:
        export = prepare_export(database, author='Anna "A" Koordinatorin \\ FB 12')
    assert export.text == dumps_with_tomli_w(export.snapshot)
