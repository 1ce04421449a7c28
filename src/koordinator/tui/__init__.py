"""The terminal UI (Textual).  A thin door onto koordinator.core; never touches SQL."""

from __future__ import annotations

import io
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koordinator.core.catalogue import CatalogueApi


def run_app(
    catalogue: CatalogueApi, *, read_only: bool, notice: str = "", ask_name: bool = False
) -> int:
    """Run the UI until it quits: 0, or after a crash 1 and one line saying where the
    details are (`koordinator.crash`) instead of Textual's traceback on the screen.
    `notice`: what opening the database did (an older one migrated), shown at start;
    `ask_name`: nobody said who is writing, the UI asks first (`make_app`)."""
    from rich.console import Console

    from koordinator.crash import report_crash
    from koordinator.tui.app import make_app

    app = make_app(catalogue, read_only=read_only, notice=notice, ask_name=ask_name)
    # Textual prints an unhandled exception's traceback on its error console after leaving
    # the screen; it goes to the crash log instead.
    details = io.StringIO()
    app.error_console = Console(
        file=details, markup=False, highlight=False, width=120, color_system=None
    )
    try:
        app.run()
    except Exception:
        details.write(traceback.format_exc())
    else:
        if not app.return_code:
            return 0
    return report_crash(details.getvalue() or "(keine Einzelheiten)", what="die Oberfläche wurde")
