"""Shared fixtures: every test runs with its own data/config folders and a fresh database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from koordinator.core.catalogue import CatalogueApi, open_catalogue
from koordinator.core.lazy_catalogue import LazyCatalogue
from koordinator.core.service import Catalogue
from koordinator.core.store.sample import fill_sample
from koordinator.core.store.sqlite_store import (
    DatabaseTarget,
    SqliteStore,
    create_database,
    open_database,
)


@pytest.fixture(autouse=True)
def isolated_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user data or config folder, nor inherit a database choice."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("KOORDINATOR_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("KOORDINATOR_USER", "testerin")
    monkeypatch.delenv("KOORDINATOR_DB", raising=False)


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample catalogue built once per test run; tests get copies."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    create_database(path, fill=fill_sample)
    return path


@pytest.fixture
def sample_path(built_sample: Path, tmp_path: Path) -> Path:
    """A private copy of the sample database for one test."""
    path = tmp_path / "catalogue.db"
    shutil.copyfile(built_sample, path)
    return path


@pytest.fixture
def database(sample_path: Path) -> Iterator[SqliteStore]:
    database = open_database(DatabaseTarget(sample_path))
    yield database
    database.close()


@pytest.fixture
def catalogue_form() -> str:
    """The form of the `catalogue` fixture: "plain", the service as the commands open it.
    The UI's test modules override this with "lazy", the form `koordinator` starts its UI
    with (`open_catalogue(..., lazy=True)`), or parametrise it with both."""
    return "plain"


@pytest.fixture
def catalogue(
    catalogue_form: str, sample_path: Path, request: pytest.FixtureRequest
) -> Iterator[CatalogueApi]:
    """The catalogue of the sample copy, acting for "testerin", in `catalogue_form`."""
    if catalogue_form == "plain":
        yield Catalogue(request.getfixturevalue("database"), author="testerin")
        return
    assert catalogue_form == "lazy", catalogue_form
    lazy = open_catalogue(str(sample_path), read_only=False, author="testerin", lazy=True)
    assert isinstance(lazy, LazyCatalogue)
    yield lazy
    lazy.close()
