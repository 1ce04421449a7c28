"""Small user settings (the UI theme, the name changes are signed with, the export folder),
kept in a TOML file in the user config folder.

A missing or damaged settings file never stops koordinator: it falls back to the defaults
and says what was wrong; saving goes through `koordinator.core.files`, so a crash never
leaves half a file and a settings file that is a link (kept with one's dotfiles) stays one.
Saving keeps what the file holds besides: `update_settings` changes the entries it is
given and no other, and entries this version does not know stay as they were.
"""

from __future__ import annotations

import dataclasses
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from koordinator.core import paths


@dataclass(frozen=True)
class Settings:
    theme: str | None = None  # a Textual theme name; None: Textual's default
    # The name changes are signed with (asked for at the UI's first start); None: not set.
    author: str | None = None
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
    data, warning = _read(path)
    if warning:
        return Settings(), warning
    values: dict[str, Any] = {}
    for entry in ("theme", "author", "export_folder"):
        value = data.get(entry)
        if value is not None and not isinstance(value, str):
            return Settings(), f"{path}: „{entry}“ muss Text sein – Standardwerte gelten"
        values[entry] = value
    if values["export_folder"] == "":
        return Settings(), f"{path}: „export_folder“ muss ein Ordner sein – Standardwerte gelten"
    author = (values["author"] or "").strip()
    if author:
        from koordinator.core.text import text_problem

        if text_problem(author):
            # A name one could not type into the dialog: asked for again.
            author = ""
    return (
        Settings(
            theme=values["theme"], author=author or None, export_folder=values["export_folder"]
        ),
        None,
    )


def _read(path: Path) -> tuple[dict[str, Any], str | None]:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            # A FIFO or a device: reading it could wait for ever (at start, or before a
            # save); saving says what is wrong with it.
            return {}, _unreadable(path, "keine gewöhnliche Datei")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as error:
        return {}, _unreadable(path, error)
    import tomllib  # only when there is a file: most starts have none

    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as error:
        return {}, _unreadable(path, error)


def _unreadable(path: Path, error: Exception | str) -> str:
    return f"{path}: Einstellungen nicht lesbar ({error}) – Standardwerte gelten"


def save_settings(settings: Settings, path: Path | None = None) -> str | None:
    """Write the settings (`koordinator.core.files`: a linked settings file stays a link),
    keeping the file's entries this version does not know; returns a German warning
    instead of raising."""
    from koordinator.core.errors import OutputFileError, os_reason
    from koordinator.core.files import write_text

    path = path or paths.settings_path()
    import tomli_w  # only when a setting changes, not at start

    data, warning = _read(path)
    if warning:
        data = {}  # a damaged file is replaced by the settings as they are now
    for entry, value in dataclasses.asdict(settings).items():
        if value:
            data[entry] = value
        else:
            data.pop(entry, None)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"{path}: Einstellungen nicht gespeichert ({os_reason(error)})"
    try:
        write_text(path, tomli_w.dumps(data))
    except OutputFileError as error:
        return f"{error} – Einstellungen nicht gespeichert"
    return None


def update_settings(path: Path | None = None, **changes: str | None) -> str | None:
    """Change the entries `changes` names (theme=..., author=...) and keep every other;
    returns a German warning instead of raising."""
    settings, _warning = load_settings(path)
    return save_settings(dataclasses.replace(settings, **changes), path)
