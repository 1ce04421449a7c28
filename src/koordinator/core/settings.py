"""Small user settings (the UI theme, the export folder), kept in a TOML file in the user config folder.

A missing or damaged settings file never stops koordinator: it falls back to the defaults
and says what was wrong; saving goes through `koordinator.core.files`, so a crash never
leaves half a file and a settings file that is a link (kept with one's dotfiles) stays one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from koordinator.core import paths


@dataclass(frozen=True)
class Settings:
    theme: str | None = None  # a Textual theme name; None: Textual's default
    # Where the UI proposes to write snapshots and reports; None: the user's documents folder.
    export_folder: str | None = None

    def export_directory(self) -> Path:
        """The folder the export and report dialogs propose (`~` expanded)."""
        if self.export_folder:
            return Path(self.export_folder).expanduser()
        return paths.documents_dir()


def load_settings(path: Path | None = None) -> tuple[Settings, str | None]:
    """The settings and, if the file could not be used, a one-line German warning."""
    path = path or paths.settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), None
    except (OSError, UnicodeDecodeError) as error:
        return Settings(), _unreadable(path, error)
    import tomllib  # only when there is a file: most starts have none

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return Settings(), _unreadable(path, error)
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        return Settings(), f"{path}: „theme“ muss Text sein – Standardwerte gelten"
    export_folder = data.get("export_folder")
    if export_folder is not None and (not isinstance(export_folder, str) or not export_folder):
        return Settings(), f"{path}: „export_folder“ muss ein Ordner sein – Standardwerte gelten"
    return Settings(theme=theme, export_folder=export_folder), None


def _unreadable(path: Path, error: Exception) -> str:
    return f"{path}: Einstellungen nicht lesbar ({error}) – Standardwerte gelten"


def save_settings(settings: Settings, path: Path | None = None) -> str | None:
    """Write the settings (`koordinator.core.files`: a linked settings file stays a link);
    returns a German warning instead of raising."""
    from koordinator.core.errors import OutputFileError, os_reason
    from koordinator.core.files import write_text

    path = path or paths.settings_path()
    import tomli_w  # only when the theme changes, not at start

    data = {
        key: value
        for key, value in (("theme", settings.theme), ("export_folder", settings.export_folder))
        if value
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"{path}: Einstellungen nicht gespeichert ({os_reason(error)})"
    try:
        write_text(path, tomli_w.dumps(data))
    except OutputFileError as error:
        return f"{error} – Einstellungen nicht gespeichert"
    return None
