"""Pausing Python's cycle collector where a lot of short-lived, acyclic data is built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector: a whole catalogue read, written or reported is millions of
    acyclic objects (100,000 events), and each full collection would walk them all again,
    for nothing.  Reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
