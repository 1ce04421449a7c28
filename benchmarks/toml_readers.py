"""The snapshot's TOML reader and writer against the libraries, side by side in one run.

    python benchmarks/toml_readers.py DB [--runs N] [--import-runs N] [--only LIST]

DB is a catalogue from `generate.py` (the figures in docs/performance.md are of 10,000
measures). Its snapshot is exported once; then, interleaved round by round so that a busy
moment of the machine hits every variant alike, and each the median of N runs:

* parse: the text into Python values, by the reader's fast path for the snapshot's layout
  (`snapshot_reader._fast_toml`, with its table lines: before issue 13 regular
  expressions into `json.loads`, since then a check of the layout and rtoml), `tomllib.loads` and
  `rtoml.loads` (each of the libraries with the scan `_Lines` makes for FILE:LINE, and
  without any line-finding: the bound for a reader that looks for lines only for a
  message);
* loads: parse and validate, `snapshot_reader.loads` with each of the three parsers;
* import: `import_snapshots` of the file into an empty database (`init --empty`) with each;
* dumps: the hand-written writer (`snapshot.dumps`) against the same blocks written by
  `tomli_w.dumps` (byte for byte the same text, checked), and `rtoml.dumps` of the whole
  document (other bytes: for scale only);
* export: `prepare_export` with the hand-written writer and with tomli-w.

Not part of the test suite. `rtoml` is optional: without it its rows are left out.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from koordinator.core import snapshot as snapshot_module
from koordinator.core import snapshot_reader
from koordinator.core.cycles import no_cycle_collection
from koordinator.core.snapshot import import_snapshots, prepare_export
from koordinator.core.snapshot_format import Snapshot
from koordinator.core.store.sample import fill_fields_only
from koordinator.core.store.sqlite_store import DatabaseTarget, create_database, open_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from snapshot_helpers import dumps_with_tomli_w  # the tests' reference writer

try:
    import rtoml
except ImportError:  # the rows of rtoml are left out
    rtoml = None

_FAST_TOML = getattr(snapshot_reader, "_fast_toml", None)  # None once it is gone


# --- the parsers, each as the reader's `_fast_toml` would be ---------------------------------


def _with_lines(parse: Callable[[str], dict[str, Any]]) -> Callable[[str], Any]:
    """A parser that also gives the lines of the tables (found by the general scan), as
    `_fast_toml` does."""

    def parsed(text: str) -> tuple[dict[str, Any], Any]:
        lines = snapshot_reader._Lines(text)
        data = parse(text)
        if getattr(snapshot_reader._Lines, "of_headers", None):  # returns the _Lines itself
            return data, lines
        return data, lines._at

    return parsed


def _without_lines(parse: Callable[[str], dict[str, Any]]) -> Callable[[str], Any]:
    """A parser that finds no lines at all: the bound for a reader that would look for a
    line only when a message needs one (see `reading_with`)."""

    def parsed(text: str) -> tuple[dict[str, Any], Any]:
        if getattr(snapshot_reader._Lines, "of_headers", None):
            return parse(text), snapshot_reader._Lines(text, {})
        return parse(text), {}

    parsed.finds_no_lines = True  # type: ignore[attr-defined]
    return parsed


def parsers() -> dict[str, Callable[[str], Any]]:
    found: dict[str, Callable[[str], Any]] = {}
    if _FAST_TOML is not None:
        found["reader's fast path"] = _FAST_TOML
    found["tomllib"] = _with_lines(tomllib.loads)
    found["tomllib, no line scan (bound)"] = _without_lines(tomllib.loads)
    if rtoml is not None:
        found["rtoml"] = _with_lines(rtoml.loads)
        found["rtoml, no line scan (bound)"] = _without_lines(rtoml.loads)
    return found


@contextmanager
def reading_with(parse: Callable[[str], Any]) -> Iterator[None]:
    """`snapshot_reader.loads` with `parse` in place of its fast path."""
    if _FAST_TOML is None:
        raise SystemExit("this tree has no _fast_toml to swap")
    snapshot_reader._fast_toml = parse  # type: ignore[attr-defined]
    line = snapshot_reader._Lines.line
    if getattr(parse, "finds_no_lines", False):  # every event's line is then "None"
        snapshot_reader._Lines.line = lambda self, path: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        snapshot_reader._fast_toml = _FAST_TOML  # type: ignore[attr-defined]
        snapshot_reader._Lines.line = line  # type: ignore[method-assign]


# --- the writers -----------------------------------------------------------------------------


def document(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as one TOML document (what the file holds), for rtoml.dumps."""
    text = snapshot_module.dumps(snapshot)
    return tomllib.loads(text)


# --- the run ---------------------------------------------------------------------------------


def timed(function: Callable[[], object]) -> float:
    """Seconds, without the cycle collector (as the reader and the export run)."""
    with no_cycle_collection():
        started = time.perf_counter()
        function()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--import-runs", type=int, default=3)
    parser.add_argument("--only", default="parse,loads,import,dumps,export")
    args = parser.parse_args()
    only = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="koordinator-toml-"))
    try:
        run(args, only, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, only: set[str], work: Path) -> None:
    source = work / "source.db"
    shutil.copy(args.db, source)
    database = open_database(DatabaseTarget(source), read_only=True)
    export = prepare_export(database, author="bench")
    database.close()
    text = export.text
    path = work / "stand.toml"
    path.write_text(text, encoding="utf-8")
    print(
        f"snapshot: {len(export.snapshot.measures):,} measures, "
        f"{export.snapshot.event_count:,} events, {len(text.encode()) / 1e6:.1f} MB, "
        f"{text.count(chr(10)):,} lines",
        flush=True,
    )
    readers = parsers()
    expected = tomllib.loads(text)
    for name, parse in readers.items():
        if parse(text)[0] != expected:
            raise SystemExit(f"{name} reads other values than tomllib")
    tomli_w_text = dumps_with_tomli_w(export.snapshot)
    if tomli_w_text != text:
        raise SystemExit("the tomli-w blocks are not the bytes snapshot.dumps writes")

    timings: dict[str, list[float]] = {}

    def note(row: str, seconds: float) -> None:
        timings.setdefault(row, []).append(seconds)

    whole = document(export.snapshot) if rtoml is not None and "dumps" in only else None
    for _ in range(args.runs):
        for name, parse in readers.items():
            if "parse" in only:
                note(f"parse: {name}", timed(lambda parse=parse: parse(text)))
            if "loads" in only and _FAST_TOML is not None:
                with reading_with(parse):
                    note(
                        f"loads (parse + validate): {name}",
                        timed(lambda: snapshot_reader.loads(text)),
                    )
        if "parse" in only:
            note(
                "  of it: _Lines scan (for the libraries)",
                timed(lambda: snapshot_reader._Lines(text)),
            )
        if "dumps" in only:
            note("dumps: hand-written", timed(lambda: snapshot_module.dumps(export.snapshot)))
            note(
                "dumps: tomli-w, block by block", timed(lambda: dumps_with_tomli_w(export.snapshot))
            )
            if whole is not None:
                note("dumps: rtoml (other bytes)", timed(lambda: rtoml.dumps(whole)))
        if "export" in only:
            for name, writer in (("hand-written", None), ("tomli-w", dumps_with_tomli_w)):
                note(f"export (prepare_export): {name}", timed(lambda w=writer: _export(source, w)))
    if "import" in only and _FAST_TOML is not None:
        for _ in range(args.import_runs):
            for name, parse in readers.items():
                empty = _empty_database(work)
                with reading_with(parse):
                    note(
                        f"import into init --empty: {name}", timed(lambda e=empty: _import(e, path))
                    )
    report(timings)


def _export(source: Path, writer: Callable[[Snapshot], str] | None) -> None:
    original = snapshot_module.dumps
    if writer is not None:
        snapshot_module.dumps = writer  # type: ignore[assignment]
    try:
        database = open_database(DatabaseTarget(source), read_only=True)
        try:
            prepare_export(database, author="bench")
        finally:
            database.close()
    finally:
        snapshot_module.dumps = original  # type: ignore[assignment]


def _empty_database(work: Path) -> Path:
    empty = work / "leer.db"
    for stale in work.glob("leer.db*"):
        stale.unlink()
    create_database(empty, fill=fill_fields_only)
    return empty


def _import(empty: Path, path: Path) -> None:
    target = open_database(DatabaseTarget(empty))
    try:
        import_snapshots(target, [path])
    finally:
        target.close()


def report(timings: dict[str, list[float]]) -> None:
    """Median, min – max, and the ratio to the first row of each group."""
    print(f"\n{'what':48} {'median':>9} {'min – max':>17} {'ratio':>7}  runs")
    first: dict[str, float] = {}
    for row, values in timings.items():
        group = row.split(":")[0]
        median = statistics.median(values)
        base = first.setdefault(group, median)
        print(
            f"{row:48} {median:8.2f}s {min(values):7.2f}s – {max(values):6.2f}s "
            f"{median / base:6.2f}×  {len(values)}"
        )


if __name__ == "__main__":
    main()
