"""The Textual application: a small composition root built by `make_app`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen
from textual.theme import Theme, ThemeProvider

from koordinator.core.settings import load_settings, update_settings
from koordinator.core.text import printable_lines
from koordinator.tui.keys import key_name
from koordinator.tui.screens.main import EDITING_ACTIONS, MainScreen
from koordinator.tui.themes import HIGH_CONTRAST
from koordinator.tui.widgets import FilterInput, MeasureTable

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.notifications import SeverityLevel

    from koordinator.core.catalogue import CatalogueApi

NAVIGATION_KEYS = [
    ("↑ / ↓, j / k", "Maßnahme wählen"),
    ("Bild↑ / Bild↓", "seitenweise"),
    ("Strg+Pos1 / Strg+Ende", "erste / letzte Maßnahme"),
    ("Tab / Umschalt+Tab", "Bereich wechseln: Handlungsfelder, Tabelle, Details"),
    ("Enter", "in den Handlungsfeldern: Feld wählen"),
]
READ_ONLY_KEYS = "s,m,M,d,D,n,e,u,ctrl+z,i"


def measure_commands() -> type[Provider]:
    """The palette's "go to measure" provider, imported when the palette first opens."""
    from koordinator.tui.commands import MeasureCommands

    return MeasureCommands


class KoordinatorApp(App[None]):
    """Receives the catalogue service and settings; the main screen does the work."""

    CSS_PATH = "app.tcss"
    TITLE = "koordinator"
    COMMANDS = App.COMMANDS | {measure_commands}
    BINDINGS = [
        Binding("q", "quit", "Beenden", id="quit"),
        # Declared here, so that Textual adds no palette key of its own (with an English
        # description); priority: it opens from inside an input too.
        Binding(
            "ctrl+p",
            "command_palette",
            "Befehlspalette",
            id="command_palette",
            show=False,
            priority=True,
            tooltip="alle Aktionen, „Gehe zu Maßnahme …“",
        ),
        Binding("question_mark", "help", "Hilfe", id="help"),
        Binding("c", "toggle_contrast", "Hoher Kontrast ein/aus", id="toggle_contrast", show=False),
        # Reached only when the main screen has disabled its editing keys (read-only mode).
        Binding(READ_ONLY_KEYS, "explain_read_only", show=False),
    ]

    def __init__(
        self,
        catalogue: CatalogueApi,
        *,
        read_only: bool,
        settings_path: Path | None = None,
        notice: str = "",
        ask_name: bool = False,
    ) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.read_only = read_only
        self.settings_path = settings_path
        self.notice = notice
        self.ask_name = ask_name
        self._show_who_writes()

    def _show_who_writes(self) -> None:
        """The title bar: who signs the changes (first: a long path is cut at the end) and
        the database, or that it is only read."""
        where = self.catalogue.display_name
        if self.read_only:
            self.sub_title = f"{where} – nur lesen"
        else:
            self.sub_title = f"als {self.catalogue.author} – {where}"

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)
        settings, warning = load_settings(self.settings_path)
        if warning:
            self.notify(warning, severity="warning")
        if self.notice:  # the database was migrated: where its backup is
            self.notify(self.notice, title="Datenbank aktualisiert", timeout=15)
        if settings.theme and settings.theme in self.available_themes:
            self.theme = settings.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.ask_name:
            self._ask_name()

    @work(exclusive=True, group="name")
    async def _ask_name(self) -> None:
        """First start: who is writing.  Without a name (Esc) the app ends, nothing written."""
        from koordinator.tui.dialogs import NameDialog

        name = await self.push_screen_wait(NameDialog())
        if name is None:
            self.exit()
            return
        self.catalogue.author = name
        self._show_who_writes()
        warning = update_settings(self.settings_path, author=name)
        if warning:
            self.notify(warning, severity="warning")

    def get_default_screen(self) -> Screen[None]:
        # The main screen is the app's first screen, not pushed over an empty default one
        # in on_mount: Textual would lay out and render it once while the app is still
        # starting (a full render it throws away), and then once more.
        return MainScreen(self.catalogue, read_only=self.read_only)

    def _remember_theme(self, theme: Theme) -> None:
        warning = update_settings(self.settings_path, theme=theme.name)
        if warning:
            self.notify(warning, severity="warning")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification, never read as markup (whatever `markup` says: Widget.notify
        passes its own default, True).  Messages quote titles, units and file names - an
        export finding names an overdue milestone "Migration [/alt]" - which must show as
        typed and must not become an action link.  Control characters show as escapes."""
        message = "\n".join(printable_lines(message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "explain_read_only":
            return self.read_only
        return True

    def action_explain_read_only(self) -> None:
        self.notify(
            "Nur-Lese-Modus (--read-only): Ändern ist abgeschaltet. "
            "Zum Bearbeiten koordinator ohne --read-only starten.",
            severity="warning",
            title="Nur lesen",
        )

    def action_toggle_contrast(self) -> None:
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_help(self) -> None:
        from koordinator.tui.screens.help import HelpScreen  # imported when first opened

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_sections(self.read_only)))

    def get_key_display(self, binding: Binding) -> str:
        """Keys as on a German keyboard (Strg+P, Pos1, Bild↑), wherever Textual shows one."""
        return binding.key_display or key_name(binding.key)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(CommandPalette(placeholder="Befehl suchen …", id="--command-palette"))

    def action_change_theme(self) -> None:
        self.push_screen(
            CommandPalette(providers=[ThemeProvider], placeholder="Farbschema suchen …")
        )

    def action_save_screenshot(self) -> None:
        """The screen as an SVG file in the export folder (the settings'; else documents)."""
        from koordinator.core.dates import utc_now
        from koordinator.core.errors import OutputFileError, os_reason
        from koordinator.core.files import write_text

        stamp = utc_now().astimezone().strftime("%Y-%m-%d_%H-%M-%S")
        folder = load_settings(self.settings_path)[0].export_directory()
        path = folder / f"koordinator-{stamp}.svg"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(path, self.export_screenshot())
        except OSError as error:
            reason = os_reason(error)
            self.notify(
                f"{path}: {reason}", severity="error", title="Bildschirmfoto nicht gespeichert"
            )
            return
        except OutputFileError as error:
            self.notify(str(error), severity="error", title="Bildschirmfoto nicht gespeichert")
            return
        self.notify(f"Gespeichert: {path}", title="Bildschirmfoto", timeout=10)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's system commands in German (its help panel left out: `?` is the help),
        then every key of the main screen."""
        yield SystemCommand(
            "Farbschema wechseln", "Ein anderes Farbschema wählen", self.action_change_theme
        )
        yield SystemCommand(
            "Beenden", f"koordinator beenden (Taste {key_name('q')})", self.action_quit
        )
        if screen.maximized is not None:
            yield SystemCommand(
                "Bereich wiederherstellen",
                "Den vergrößerten Bereich wieder in normaler Größe zeigen",
                screen.action_minimize,
            )
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand(
                "Bereich maximieren",
                "Den gewählten Bereich auf die ganze Größe vergrößern",
                screen.action_maximize,
            )
        yield SystemCommand(
            "Bildschirmfoto speichern",
            "Den Bildschirm als SVG-Datei im Export-Ordner speichern",
            self.action_save_screenshot,
        )
        main = next((s for s in reversed(self.screen_stack) if isinstance(s, MainScreen)), None)
        if main is None:
            return
        for binding in MainScreen.BINDINGS + MeasureTable.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            action = binding.action
            if self.read_only and action in EDITING_ACTIONS:
                continue
            target = main.table if binding in MeasureTable.BINDINGS else main
            yield SystemCommand(
                binding.tooltip or binding.description,
                f"Taste {key_name(binding.key.split(',')[0])}",
                lambda target=target, action=action: self.run_action(action, target),
            )
        yield SystemCommand(
            "Bericht schreiben",
            "Den Umsetzungsstand als Markdown- oder Textdatei (.md/.txt) schreiben",
            main.action_write_report,
        )
        yield SystemCommand(
            "Hoher Kontrast ein/aus", f"Taste {key_name('c')}", self.action_toggle_contrast
        )


def help_sections(read_only: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every key, taken from the bindings that own them (so the help cannot fall behind)."""
    from koordinator.tui.dialogs import FormDialog
    from koordinator.tui.screens.help import binding_rows
    from koordinator.tui.status_keys import STATUS_KEYS

    editing = binding_rows(MainScreen.BINDINGS)
    if read_only:
        editing = [(key, f"{what} (im Nur-Lese-Modus gesperrt)") for key, what in editing]
    return [
        ("Bewegen", NAVIGATION_KEYS),
        ("Hauptansicht", editing + binding_rows(MeasureTable.BINDINGS)),
        ("Filter", binding_rows(FilterInput.BINDINGS)),
        (
            "Status ändern (nach s, in der Zeile über den Tasten)",
            [(key, status.label) for status, key in STATUS_KEYS.items()]
            + [
                ("Enter", "Status-Dialog: mit Pfeiltasten wählen, Anmerkung"),
                ("Esc", "abbrechen"),
            ],
        ),
        ("Dialoge", [*binding_rows(FormDialog.BINDINGS), ("Enter", "speichern")]),
        ("Allgemein", binding_rows(KoordinatorApp.BINDINGS)),
    ]


def make_app(
    catalogue: CatalogueApi,
    *,
    read_only: bool = False,
    settings_path: Path | None = None,
    notice: str = "",
    ask_name: bool = False,
) -> KoordinatorApp:
    """The one factory the CLI and the tests use.  `ask_name`: nobody said who is writing
    (no --as, no KOORDINATOR_USER, no name in the settings): the app asks first."""
    return KoordinatorApp(
        catalogue,
        read_only=read_only,
        settings_path=settings_path,
        notice=notice,
        ask_name=ask_name,
    )
