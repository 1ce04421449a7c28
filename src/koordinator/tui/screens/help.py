"""The help screen: every key, generated from the bindings that own them, and how to start."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from koordinator.tui.keys import keys_label

GETTING_STARTED = """\
So geht's:
  1. Maßnahme finden: / drücken und Nummer, Titel, Status oder Ursache tippen (z. B. 1.11,
     verzögert, Corona), Enter.  Oder Strg+P und „1.11“ tippen, Enter.
     Nur einen Status zeigen: f, dann sein Buchstabe (wie nach s); f hebt den Filter auf.
  2. Status ändern: s, dann den Buchstaben des neuen Status (z. B. z für „Im Zeitplan“).
     Braucht der Wechsel Angaben (Ursache, Dienststelle, Begründung), fragt der Dialog
     danach; Enter speichert, Esc bricht ab.
  3. Verzögerung erfassen: d, Ursache ist „Corona“ vorbelegt, Enter speichert.
  4. Meilenstein anlegen: m, Titel und Fälligkeit (z. B. 06/2021) eingeben, Enter.
  5. Rückgängig: u, dann mit Enter bestätigen.  Beenden: q.
Alles wird sofort gespeichert; ein „Speichern“ gibt es nicht.
"""


def binding_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            what = binding.description + (f" – {binding.tooltip}" if binding.tooltip else "")
            rows.append((keys_label(binding.key), what))
    return rows


class HelpScreen(ModalScreen[None]):
    """Shows sections of (key, what it does); `Esc`, `q` or `?` close it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Schließen", id="close_help")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(Text("koordinator – Hilfe", style="bold"))
            yield Static(Text(GETTING_STARTED))
            for title, rows in self.sections:
                table = Table(title=title, title_justify="left", show_header=False, box=None)
                table.add_column("Taste", style="bold", min_width=14)
                table.add_column("Wirkung")
                for key, description in rows:
                    table.add_row(key, description)
                yield Static(table)
            yield Static("Esc, q oder ? schließt die Hilfe.", classes="dialog-hint")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
