"""`python -m koordinator` runs the same entry point as the `koordinator` command."""

from koordinator.cli import run

raise SystemExit(run())
