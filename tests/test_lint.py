"""The code base stays ruff-clean (lint and format), type-checks (mypy, strict on the core)
and keeps its layers (import-linter's contracts), as pyproject.toml configures them; checked
with every test run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return subprocess.run(
        [ruff, *args, "src", "tests", "benchmarks"]
        if (ROOT / "benchmarks").is_dir()
        else [ruff, *args, "src", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_ruff_check_is_clean() -> None:
    result = _ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).with_name(name))


def test_the_import_contracts_hold() -> None:
    """The doors stand on the core, the core knows no terminal, the core's layers point
    one way (pyproject.toml, [tool.importlinter]); deferred imports count."""
    result = subprocess.run(
        [_tool("lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    """Strict on koordinator.core, the rest with its untyped bodies checked: the UI and the
    CLI call the catalogue through CatalogueApi, so a misspelt method is an error here."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
