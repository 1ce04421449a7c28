"""Keys named as on a German keyboard (Strg+P, Pos1, Bild↑, ?): the one table the footer,
the command palette and the help screen name keys by (`KoordinatorApp.get_key_display`
for what Textual shows, `keys_label` for a binding's comma-separated keys)."""

from __future__ import annotations

from textual.keys import format_key

MODIFIER_NAMES = {"ctrl": "Strg", "shift": "Umschalt", "alt": "Alt", "meta": "Meta"}

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "number_sign": "#",
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "space": "Leertaste",
    "backspace": "Rücktaste",
    "delete": "Entf",
    "insert": "Einfg",
    "home": "Pos1",
    "end": "Ende",
    "pageup": "Bild↑",
    "pagedown": "Bild↓",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}


def key_name(key: str) -> str:
    """One key as a German keyboard labels it: "ctrl+home" -> "Strg+Pos1", "slash" -> "/",
    "ctrl+z" -> "Strg+Z"; a plain letter stays as it is ("D" is Umschalt+d)."""
    *modifiers, base = key.split("+")
    name = KEY_NAMES.get(base) or format_key(base)
    if modifiers and len(name) == 1:
        name = name.upper()  # "Strg+P", as printed on the key
    return "+".join([*(MODIFIER_NAMES.get(m, m.capitalize()) for m in modifiers), name])


def keys_label(keys: str) -> str:
    """A binding's keys ("u,ctrl+z") as the help lists them: "u / Strg+Z"."""
    return " / ".join(key_name(key.strip()) for key in keys.split(","))
