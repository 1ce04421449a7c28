"""Where koordinator keeps its files.  Functions, not constants: nothing is created at import.

Every location can be overridden: the database by `--db` or `KOORDINATOR_DB`, the settings
folder by `KOORDINATOR_CONFIG_DIR`; tests point them (or XDG_* on Linux) at a tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "koordinator"
DATABASE_FILENAME = "koordinator.db"
ENV_DATABASE = "KOORDINATOR_DB"
ENV_USER = "KOORDINATOR_USER"
ENV_CONFIG_DIR = "KOORDINATOR_CONFIG_DIR"


def data_dir() -> Path:
    """The user data folder (not created here; the caller creates it when it writes)."""
    import platformdirs  # imported when needed: `--db` commands never ask for a user folder

    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def default_database_path() -> Path:
    return data_dir() / DATABASE_FILENAME


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def state_dir() -> Path:
    """The user state folder (crash logs); not created here."""
    import platformdirs

    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def documents_dir() -> Path:
    """The user's documents folder (the export folder unless the settings name another);
    not created here."""
    import platformdirs

    return platformdirs.user_documents_path()
