"""The fast reader of the snapshot's own layout (`snapshot_reader._fast_toml`) reads exactly what
tomllib reads, and finds the tables on the lines `_Lines` finds them; on anything else it
steps aside (None) so that tomllib decides, errors included.

Random documents are built from lines of the layout `dumps` writes and from lines that
come close to it: keys twice, tables defined twice or through arrays, floats, dotted and
quoted keys, escapes JSON and TOML read differently (\\U, \\/, surrogates), control
characters, " = " and brackets inside strings, comments, missing line breaks.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koordinator.core.snapshot_reader import _fast_toml, _Lines

keys = st.sampled_from(["a", "b", "id", "x-1", "_null", "1", "c_d"])
names = st.lists(keys, min_size=1, max_size=3).map(".".join)
string_parts = st.sampled_from(
    [
        "a",
        "ä",
        " ",
        " = ",
        '\\"',
        "\\\\",
        "\\n",
        "\\t",
        "\t",
        "\\u00e4",
        "\\u0000",
        "\\U0001F600",
        "\\ud800",
        "\\/",
        "\\e",
        "\\x41",
        "[",
        "]]",
        "#",
        "'",
        ",",
        '"',
        "\\",
        "\x01",
        "\x7f",
        "\u2028",
        "\r",
        "1",
        ' = \\"x\\"',
    ]
)
strings = st.lists(string_parts, max_size=5).map(lambda parts: '"' + "".join(parts) + '"')
scalars = st.one_of(
    strings,
    st.sampled_from(
        [
            "0",
            "1",
            "-0",
            "-12",
            "+1",
            "1_000",
            "01",
            "1.5",
            "1e3",
            "true",
            "false",
            "True",
            "nan",
            "inf",
            "2020-01-01",
            "99999999999999999999",
            "0x10",
            "'lit'",
            "{}",
            "{ a = 1 }",
            "[1, 2]",
            '"""x"""',
        ]
    ),
)


def array_lines(items: list[str], comma: bool) -> list[str]:
    return [
        *(
            f"    {item}," if comma or i < len(items) - 1 else f"    {item}"
            for i, item in enumerate(items)
        ),
        "]",
    ]


line = st.one_of(
    names.map(lambda n: f"[[{n}]]"),
    names.map(lambda n: f"[{n}]"),
    st.tuples(keys, scalars).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.tuples(keys, scalars).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.tuples(keys, st.lists(scalars, max_size=3), st.booleans()).map(
        lambda kv: "\n".join([f"{kv[0]} = [", *array_lines(kv[1], kv[2])])
    ),
    keys.map(lambda k: f"{k} = []"),
    st.sampled_from(
        [
            "",
            "",
            "# comment",
            "a.b = 1",
            '"q" = 1',
            "a=1",
            " a = 1",
            "a = 1 # c",
            "[ a ]",
            "[[a]] ",
            "]",
            "    1,",
            '[a."b"]',
            "a = [",
            "[a]]",
        ]
    ),
)


def documents() -> st.SearchStrategy[str]:
    return st.tuples(st.lists(line, max_size=14), st.booleans()).map(
        lambda parts: "\n".join(parts[0]) + ("\n" if parts[1] else "")
    )


def check_same(text: str) -> None:
    fast = _fast_toml(text)
    if fast is None:
        return
    data, lines = fast
    assert data == tomllib.loads(text)  # raises if tomllib refuses what was read
    headers = dict(lines._at)
    full = _Lines(text)
    assert {path: full.line(path) for path in headers} == headers


@settings(max_examples=1500, deadline=None)
@given(documents())
def test_fast_read_is_tomllib_or_steps_aside(text: str) -> None:
    check_same(text)


def test_the_layout_of_dumps_is_read_fast(tmp_path: Path) -> None:
    text = (
        'format = "x"\nversion = 1\n\n[summary]\ntotal = 2\n\n[summary.by_field]\n1 = 2\n\n'
        '[[fields]]\ncode = 1\nname = "E-Government \\"A = B\\" [x]"\n\n'
        '[[measures]]\nnumber = "1.1"\ndone = true\n\n[[measures.events]]\nid = "e"\n\n'
        '[measures.events.details]\nresolved_delays = [\n    "a",\n    "b",\n]\n'
        '_null = [\n    "due",\n]\nempty = []\n\n[measures.events.details.measure]\nx = -3\n'
    )
    fast = _fast_toml(text)
    assert fast is not None
    assert fast[0] == tomllib.loads(text)
    assert (
        fast[1].line(("measures", 0, "events", 0))
        == 18
        == _Lines(text).line(("measures", 0, "events", 0))
    )


@pytest.mark.parametrize(
    "text",
    [
        "[a]\nx = 1\n[a]\ny = 2\n",  # a table twice
        "[a.b]\n[a]\nb = 1\n",  # a key that is a table already
        "[[a]]\n[a]\n",  # a table that is an array
        "a = [\n    1,\n]\n[[a]]\n",  # an array that is not of tables
        "a = 1\na = 2\n",  # a key twice
        "[a]\nb = 1\n[a.b]\n",  # a value as a table
        "[[a.b]]\n[a]\nb = 1\n",
        # TOML 1.1, which rtoml reads and TOML 1.0 (tomllib, the format) does not
        'a = "\\e"\n',
        'a = "\\x41"\n',
        "a = {\n    b = 1,\n}\n",
        "a = 07:32\n",
        "a = 1979-05-27T07:32Z\n",
    ],
)
def test_what_toml_forbids_is_left_to_tomllib(text: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    assert _fast_toml(text) is None


good_strings = st.lists(
    st.sampled_from(
        [
            "a",
            "ä",
            " = ",
            '\\"',
            "\\\\",
            "\\n",
            "\\u00e4",
            "\t",
            "[",
            "]]",
            "#",
            ' = \\"x\\"',
            ",",
            "\\u2028",
        ]
    ),
    max_size=4,
).map(lambda parts: '"' + "".join(parts) + '"')
good_values = st.one_of(good_strings, st.sampled_from(["0", "-7", "12", "true", "false"]))
good_line = st.one_of(
    st.sampled_from(["a", "b", "a.b", "a.c", "b.a"]).map(lambda n: f"[[{n}]]"),
    st.sampled_from(["a", "b", "a.b", "a.c", "b.a", "a.b.c"]).map(lambda n: f"[{n}]"),
    st.tuples(keys, good_values).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.tuples(keys, good_values).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.tuples(keys, st.lists(good_values, min_size=1, max_size=3)).map(
        lambda kv: "\n".join([f"{kv[0]} = [", *array_lines(kv[1], True)])
    ),
    keys.map(lambda k: f"{k} = []"),
    st.just(""),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(good_line, max_size=14).map(lambda lines: "\n".join(lines) + "\n"))
def test_fast_read_of_the_layout_itself(text: str) -> None:
    check_same(text)
