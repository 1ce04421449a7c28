"""Small user settings (the UI theme), kept in a TOML file in the user config folder.

A missing or damaged settings file never stops koordinator: it falls back to the defaults
and says what was wrong; saving writes a temporary file and renames it, so a crash never
leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from koordinator.core import paths


@dataclass(frozen=True)
class Settings:
    theme: str | None = None  # a Textual theme name; None: Textual's default


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
    return Settings(theme=theme), None


def _unreadable(path: Path, error: Exception) -> str:
    return f"{path}: Einstellungen nicht lesbar ({error}) – Standardwerte gelten"


def save_settings(settings: Settings, path: Path | None = None) -> str | None:
    """Write the settings atomically; returns a German warning instead of raising."""
    path = path or paths.settings_path()
    import tomli_w  # only when the theme changes, not at start

    data = {"theme": settings.theme} if settings.theme else {}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".settings.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                tomli_w.dump(data, file)
            Path(temporary).replace(path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError as error:
        return f"{path}: Einstellungen nicht gespeichert ({error.strerror})"
    return None
