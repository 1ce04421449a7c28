"""Run the test suite against the newest Textual release, before an upgrade is committed.

    python benchmarks/newest_textual.py [--textual VERSION] [--keep] [-- PYTEST_ARGS...]

Not part of the test suite.  koordinator pins Textual exactly (pyproject.toml); this script
makes a throw-away venv, installs this checkout with its test extras, then replaces the pinned
Textual by the newest release on the package index (or --textual VERSION), and runs pytest
there.  It prints both versions and pytest's verdict; the SVG snapshot tests show what an
upgrade would paint differently (their report: snapshot_report.html in the repository root).
If all is green, the upgrade is one commit: the pin in pyproject.toml, plus
`pytest --snapshot-update` for snapshots whose change was checked by eye.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str | Path, cwd: Path = ROOT) -> None:
    print("$", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=cwd, check=True)


def installed_textual(python: Path) -> str:
    return subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('textual'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--textual", help="a Textual version instead of the newest")
    parser.add_argument("--keep", action="store_true", help="keep the venv and print its path")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="koordinator-newest-textual-"))
    venv = folder / "venv"
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "venv", venv)
    run(python, "-m", "pip", "install", "-q", "-e", ".[test]")
    pinned = installed_textual(python)
    wanted = f"textual=={args.textual}" if args.textual else "textual"
    run(python, "-m", "pip", "install", "-q", "--upgrade", wanted)
    candidate = installed_textual(python)
    print(f"\nTextual pinned: {pinned}; under test: {candidate}\n", flush=True)
    result = subprocess.run([python, "-m", "pytest", "-q", *args.pytest_args], cwd=ROOT)
    verdict = "green" if result.returncode == 0 else f"FAILED (pytest exit {result.returncode})"
    print(f"\nTextual {candidate} (pinned {pinned}): {verdict}")
    if args.keep:
        print(f"venv kept: {venv}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
