"""`python -m koordinator` runs the same entry point as the `koordinator` command."""

from koordinator.cli import main

raise SystemExit(main())
