"""User text on screen: shown as typed, never read as markup.

Textual reads a `str` given to a Label, a Static, an Option, a Select or a notification as
content markup: a milestone titled "Migration [/alt]" made the markup parser raise (the app
crashed), "[b]fett[/b]" lost its brackets, and "[@click=app.quit]Klick[/]" became a link
that quit the app.  Whatever a user, a database or a snapshot wrote is therefore handed to
widgets as `user_text(...)`, Rich Text that Textual never parses; notifications are never
markup (`KoordinatorApp.notify`).  Control characters and bidirectional controls show as
escapes (koordinator.core.text.printable), as on the command line.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from koordinator.core.text import printable_lines


def user_text(text: str, style: str | Style = "") -> Text:
    """`text` (a title, a unit, a message that quotes one) as a widget shows it: as typed,
    line by line."""
    return Text("\n".join(printable_lines(text)), style=style)
