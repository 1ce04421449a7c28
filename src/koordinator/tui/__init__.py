"""The terminal UI (Textual).  A thin door onto koordinator.core; never touches SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koordinator.core.catalogue import Catalogue
    from koordinator.core.lazy_catalogue import LazyCatalogue


def run_app(catalogue: Catalogue | LazyCatalogue, *, read_only: bool) -> None:
    from koordinator.tui.app import make_app

    make_app(catalogue, read_only=read_only).run()
