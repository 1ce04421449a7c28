"""The snapshot writer's shortcuts give exactly what tomli-w writes block by block.

`snapshot._Writer` formats each distinct key and value once and lays tables out itself;
these properties compare it with the plain way (`"\\n".join(f"[[array]]\\n" +
tomli_w.dumps(values), ...)` and `tomli_w.dumps` of an event's details) on awkward values:
quotes, backslashes, control characters, line separators other than \\n, "%", "s", 1 next to
true, arrays, nested and empty tables, arrays of tables.
"""

from __future__ import annotations

from typing import Any

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from koordinator.core.snapshot import _Writer

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
arrays = st.lists(st.one_of(texts, st.integers(0, 2), st.booleans()), max_size=3)
flat = st.dictionaries(keys, scalars, min_size=1, max_size=6)
details = st.recursive(
    st.dictionaries(keys, st.one_of(scalars, arrays), max_size=4),
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
            text += "\n" + tomli_w.dumps({"measures": {"events": {"details": extra}}})
        texts.append(text)
    return "\n".join(texts)


@settings(max_examples=300, deadline=None)
@given(
    head=st.dictionaries(keys, scalars, max_size=3),
    blocks=st.lists(
        st.tuples(st.sampled_from(["fields", "measures", "measures.events"]), flat, details),
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
            writer.text("\n")
            writer.details(extra)
    assert writer.getvalue() == plain(head, blocks)


def test_one_and_true_stay_apart() -> None:
    writer = _Writer()
    writer.text("")
    writer.block("measures", {"field": 1, "done": True, "revision": 0, "x": False})
    writer.text("\n")
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
