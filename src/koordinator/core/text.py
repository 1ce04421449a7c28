"""User text: what a stored text may hold, and how it is shown as plain text.

Titles, units, authors, causes and reasons are single lines; notes may span lines.  No text
may hold control characters (tab and, in notes, line breaks aside) or the controls that
reorder a line's characters for display (Unicode's bidirectional embeddings, overrides,
isolates and marks): they would drive a terminal, or show a line other than the one stored
("Trojan Source").  The service and the snapshot reader refuse them with `text_problem`.

What a database or a snapshot holds can still come from elsewhere (an older version, a
file edited by hand), so every plain-text rendering of user text - the command line, the
text report - goes through `printable`, which shows such characters as escapes (\\x1b,
\\u202e) instead of passing them on.
"""

from __future__ import annotations

import re

# Longer texts are refused (no title or note is that long; a pasted file is a mistake).
MAX_TEXT_LENGTH = 10_000

# The characters refused, as regular-expression classes.  C0 controls but tab and line
# breaks, DEL, C1: refused in every text.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Line breaks: refused in single-line texts.  A note may hold LF and CR (one pasted from
# Windows has CRLF), not the Unicode line and paragraph separators: one line break is enough.
_LINE_BREAKS = "\n\r\u2028\u2029"
_NOTE_LINE_BREAKS = "\u2028\u2029"
# The bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates
# (U+2066-U+2069), and the marks (U+200E, U+200F, U+061C), which move neutral characters
# such as digits and brackets; none belongs in a German catalogue.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Lone surrogates: what Python makes of a byte that is not UTF-8 in an argument or a file
# name (U+DC80-U+DCFF); no database or terminal can take one.
_SURROGATES = "\ud800-\udfff"
SURROGATES = re.compile(f"[{_SURROGATES}]")

LINE_BREAKS = re.compile(f"[{_LINE_BREAKS}]")
BIDI_CONTROLS = re.compile(f"[{_BIDI}]")
# Everything a single-line text or a note may not hold, for one quick look.
REFUSED_IN_LINE = re.compile(f"[{_CONTROLS}{_LINE_BREAKS}{_BIDI}{_SURROGATES}]")
REFUSED_IN_NOTE = re.compile(f"[{_CONTROLS}{_NOTE_LINE_BREAKS}{_BIDI}{_SURROGATES}]")
# What `printable` escapes: every C0 control (tab and line breaks too), DEL, C1, the line
# and paragraph separators, and the bidirectional controls.
NOT_PRINTABLE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}{_SURROGATES}]")
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` cannot be stored, or None: too long, a control character, a line break in
    a single-line text (`multiline`: a note), a bidirectional control."""
    if len(text) > MAX_TEXT_LENGTH:
        return f"Text zu lang ({len(text)} Zeichen, höchstens {MAX_TEXT_LENGTH})"
    found = (REFUSED_IN_NOTE if multiline else REFUSED_IN_LINE).search(text)
    if found is None:
        return None
    character = found.group()
    code = f"U+{ord(character):04X}"
    if LINE_BREAKS.match(character):
        where = "" if multiline else " – hier ist nur eine Zeile erlaubt"
        return f"Text mit Zeilenumbruch ({code}){where}"
    if BIDI_CONTROLS.match(character):
        return f"Text mit Steuerzeichen für die Schreibrichtung ({code})"
    if SURROGATES.match(character):
        byte = f" 0x{ord(character) - 0xDC00:02X}" if 0xDC80 <= ord(character) <= 0xDCFF else ""
        return f"Text mit einem Byte{byte}, das kein UTF-8-Zeichen ist – bitte als UTF-8 eingeben"
    return f"Text mit Steuerzeichen ({code})"


def _escape(character: str) -> str:
    code = ord(character)
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep: str = "") -> str:
    """`text` as one line that shows what it holds and cannot drive a terminal: control
    characters, line breaks and bidirectional controls written as escapes (\\n, \\x1b,
    \\u202e); everything else as it is.  `keep`: characters to leave as they are (a pane
    that wraps a note keeps its line breaks and tabs)."""
    if text.isprintable():  # nearly every text: nothing to look for
        return text
    return NOT_PRINTABLE.sub(
        lambda match: match.group() if match.group() in keep else _escape(match.group()), text
    )


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters, its end shown by "…" where it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def printable_lines(text: str) -> list[str]:
    """A text that may span lines (a note) as its lines, each `printable`."""
    return [printable(line) for line in text.splitlines()] or [""]


# In JSON text from json.dumps the C0 controls are escaped already (a line break there is
# the indentation's); the rest of what `printable` escapes may stand in strings as it is.
_RAW_IN_JSON = re.compile(f"[\\x7f-\\x9f\\u2028\\u2029{_BIDI}]")


def printable_json(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with DEL, C1, the line and
    paragraph separators and the bidirectional controls written as \\u escapes: the same
    JSON value, and nothing in it can drive a terminal."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
