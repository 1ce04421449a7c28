"""User text: what a stored text may hold, and how it is shown as plain text.

Titles, units, authors, causes and reasons are single lines; notes may span lines.  No text
may hold control characters (tab and, in notes, line breaks aside) or the controls that
reorder a line's characters for display (Unicode's bidirectional embeddings, overrides,
isolates and marks): they would drive a terminal, or show a line other than the one stored
("Trojan Source").  The service and the snapshot reader refuse them with `text_problem`.
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

LINE_BREAKS = re.compile(f"[{_LINE_BREAKS}]")
BIDI_CONTROLS = re.compile(f"[{_BIDI}]")
# Everything a single-line text or a note may not hold, for one quick look.
REFUSED_IN_LINE = re.compile(f"[{_CONTROLS}{_LINE_BREAKS}{_BIDI}]")
REFUSED_IN_NOTE = re.compile(f"[{_CONTROLS}{_NOTE_LINE_BREAKS}{_BIDI}]")


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
    return f"Text mit Steuerzeichen ({code})"
