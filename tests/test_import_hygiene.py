"""The headless core never imports Textual: the CLI and snapshots must work without a UI.

Each module is imported in a fresh interpreter, so that nothing imported by pytest or by
another test can hide (or cause) a Textual import.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys

import pytest

import koordinator.core

# The core modules that exist today; a new one is picked up by the discovery below.
KNOWN_CORE_MODULES = {
    "koordinator.core.catalogue",
    "koordinator.core.dates",
    "koordinator.core.db",
    "koordinator.core.errors",
    "koordinator.core.history",
    "koordinator.core.models",
    "koordinator.core.paths",
    "koordinator.core.sample",
    "koordinator.core.views",
    "koordinator.core.workflow",
}


def _core_modules() -> list[str]:
    found = {
        f"koordinator.core.{module.name}"
        for module in pkgutil.iter_modules(koordinator.core.__path__)
    }
    return sorted(found | {"koordinator", "koordinator.core"})


def _headless_candidates() -> list[str]:
    optional = ["koordinator.cli"]
    return _core_modules() + [name for name in optional if importlib.util.find_spec(name)]


def test_the_known_core_modules_are_all_discovered() -> None:
    assert set(_core_modules()) >= KNOWN_CORE_MODULES


@pytest.mark.parametrize("module", _headless_candidates())
def test_importing_does_not_load_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'textual')\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_check_would_notice_textual() -> None:
    """The same check fails for a module that does load Textual (guards the test itself)."""
    if importlib.util.find_spec("textual") is None:  # pragma: no cover
        pytest.skip("textual is not installed")
    code = "import sys, textual.app\nassert 'textual' not in sys.modules\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode != 0
