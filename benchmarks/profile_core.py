"""In-process timings (and optional cProfile) of the core on a database.

    python benchmarks/profile_core.py DB [--only export,import,report,details,status]
                                         [--profile export|import|report|details|status]
                                         [--runs N]

Not part of the test suite; prints the best and median of N runs of each operation (the
same calls as `measure.py`'s core timings) and, with --profile, the top of a cProfile.

`details` and `status` are what the terminal UI does on a keypress; both are measured on the
sample catalogue (built afresh) and on DB, and both print medians in milliseconds:

* details read (warm): `Catalogue.measure(number)` -- read on every cursor move and after
  every save -- for the first 300 measures, after each of them was read once;
* status change (first call in a process / warm): `Catalogue.change_status` of the first
  measure from the 6th on whose move needs no input (In Planung/Verzögert -> Im Zeitplan,
  Im Zeitplan -> Etabliert: what `measure.py` presses), in a fresh process that has first
  done what the UI does before (fields, list, details); "+ read back" adds the details read
  that shows the change; "warm" is the median of 15 more such changes in the same process.
  Every run works on a fresh copy of the database.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from koordinator.core.files import write_text
from koordinator.core.report import render, report_figures
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import import_snapshots, prepare_export
from koordinator.core.store.sample import fill_fields_only, fill_sample
from koordinator.core.store.sqlite_store import DatabaseTarget, create_database, open_database
from koordinator.core.workflow import Status

DETAIL_READS = 300  # measures read per run of "details"
WARM_CHANGES = 15  # status changes after the first one, per run of "status"
# The moves measure.py makes with one key (z or e): they need no further input.
ONE_KEY_MOVES = {
    Status.PLANNING: Status.ON_SCHEDULE,
    Status.DELAYED: Status.ON_SCHEDULE,
    Status.ON_SCHEDULE: Status.ESTABLISHED,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", choices=("export", "import", "report", "details", "status"))
    parser.add_argument("--only", default="export,import,report")
    parser.add_argument("--status-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.status_child:  # one run of "status", in its own process (see _status_run)
        print(json.dumps(status_changes(args.db, profile=args.profile == "status")))
        return
    work = Path(tempfile.mkdtemp(prefix="koordinator-profile-"))
    try:
        if args.profile in ("details", "status"):
            profile_ui_operation(args.profile, args.db, work)
        elif args.profile or set(args.only.split(",")) & {"export", "import", "report"}:
            time_files(args, work)
        if not args.profile:
            for name in ("details", "status"):
                if name in args.only.split(","):
                    time_ui_operation(name, args.db, args.runs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- export, import, report: seconds ---------------------------------------------------------


def time_files(args: argparse.Namespace, work: Path) -> None:
    source = work / "source.db"
    shutil.copy(args.db, source)
    snapshot_path = work / "stand.toml"
    database = open_database(DatabaseTarget(source), read_only=True)
    write_text(snapshot_path, prepare_export(database, author="bench").text)
    database.close()

    def export() -> None:
        database = open_database(DatabaseTarget(source), read_only=True)
        try:
            write_text(snapshot_path, prepare_export(database, author="bench").text)
        finally:
            database.close()

    def report() -> None:
        database = open_database(DatabaseTarget(source), read_only=True)
        try:
            render(report_figures(Catalogue(database, author="bench")), "text")
        finally:
            database.close()

    def prepare_import() -> Path:
        empty = work / "leer.db"
        for stale in work.glob("leer.db*"):
            stale.unlink()
        create_database(empty, fill=fill_fields_only)
        return empty

    def run_import(empty: Path) -> None:
        target = open_database(DatabaseTarget(empty))
        try:
            import_snapshots(target, [snapshot_path])
        finally:
            target.close()

    operations = {
        "export": (lambda: None, lambda _: export()),
        "import": (prepare_import, run_import),
        "report": (lambda: None, lambda _: report()),
    }
    if args.profile:
        setup, run = operations[args.profile]
        prepared = setup()
        profiler = cProfile.Profile()
        profiler.enable()
        run(prepared)
        profiler.disable()
        print_profile(profiler)
        return
    for name in args.only.split(","):
        if name not in operations:
            continue
        setup, run = operations[name]
        timings = []
        for _ in range(args.runs):
            prepared = setup()
            started = time.perf_counter()
            run(prepared)
            timings.append(time.perf_counter() - started)
        print(
            f"{name:7} best {min(timings):7.3f} s  median {statistics.median(timings):7.3f} s"
            f"  ({args.runs} runs)",
            flush=True,
        )


# --- details and status: milliseconds, on the sample and on DB --------------------------------


def fresh_copy(source: Path, work: Path, name: str) -> Path:
    copy = work / name
    for stale in work.glob(f"{name}*"):
        stale.unlink()
    shutil.copy(source, copy)
    return copy


def databases(db: Path, work: Path) -> dict[str, Path]:
    sample = work / "sample-source.db"
    if not sample.exists():
        create_database(sample, fill=fill_sample)
    return {"sample": sample, db.name: db}


def detail_reads(path: Path, *, profile: bool = False) -> list[float]:
    """Milliseconds per `measure()` of the first DETAIL_READS measures, each read once before."""
    database = open_database(DatabaseTarget(path), read_only=True)
    try:
        catalogue = Catalogue(database, author="bench")
        numbers = [m.number for m in catalogue.list_measures(limit=DETAIL_READS)]
        for number in numbers:
            catalogue.measure(number)
        profiler = cProfile.Profile()
        if profile:
            profiler.enable()
        timings = []
        for number in numbers:
            started = time.perf_counter()
            catalogue.measure(number)
            timings.append((time.perf_counter() - started) * 1000)
        if profile:
            profiler.disable()
            print_profile(profiler)
        return timings
    finally:
        database.close()


def status_changes(path: Path, *, profile: bool = False) -> dict[str, float]:
    """One run of "status" (milliseconds); must be the process's first status change."""
    database = open_database(DatabaseTarget(path))
    try:
        catalogue = Catalogue(database, author="bench")
        # What the UI has done before the first status change: fields, list, details.
        catalogue.fields()
        measures = catalogue.list_measures()
        catalogue.measure(measures[0].number)
        chosen = [m for m in measures[5:] if m.status in ONE_KEY_MOVES][: WARM_CHANGES + 1]

        def change(index: int, profiler: cProfile.Profile | None = None) -> tuple[float, float]:
            """Seconds to save the move, and to save it and read the details back."""
            measure = chosen[index]
            catalogue.measure(measure.number)  # the cursor is on it
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            catalogue.change_status(
                measure.number, ONE_KEY_MOVES[measure.status], expected_revision=measure.revision
            )
            saved = time.perf_counter()
            catalogue.measure(measure.number)  # the UI shows it
            shown = time.perf_counter()
            if profiler:
                profiler.disable()
                print_profile(profiler, out=sys.stderr)
            return saved - started, shown - started

        first, first_shown = change(0, cProfile.Profile() if profile else None)
        warm = [change(index)[0] for index in range(1, len(chosen))]
        return {
            "first": first * 1000,
            "first_shown": first_shown * 1000,
            "warm": statistics.median(warm) * 1000,
        }
    finally:
        database.close()


def _status_run(path: Path, *, profile: bool = False) -> dict[str, float]:
    """A run of "status" in a new interpreter: its first status change is really the first."""
    command = [sys.executable, __file__, str(path), "--status-child"]
    if profile:
        command += ["--profile", "status"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    if profile:
        print(result.stderr)
    return json.loads(result.stdout)


def time_ui_operation(name: str, db: Path, runs: int, work: Path) -> None:
    for label, source in databases(db, work).items():
        if name == "details":
            medians = [
                statistics.median(detail_reads(fresh_copy(source, work, "ui.db")))
                for _ in range(runs)
            ]
            _print_ms(f"details read (warm)   {label}", medians, runs)
        else:
            results = [_status_run(fresh_copy(source, work, "ui.db")) for _ in range(runs)]
            for key, what in (
                ("first", "first call in a process"),
                ("first_shown", "first call + read back"),
                ("warm", "warm"),
            ):
                _print_ms(f"status change ({what}) {label}", [r[key] for r in results], runs)


def profile_ui_operation(name: str, db: Path, work: Path) -> None:
    copy = fresh_copy(db, work, "ui.db")
    if name == "details":
        detail_reads(copy, profile=True)
    else:
        _status_run(copy, profile=True)


def _print_ms(what: str, values: list[float], runs: int) -> None:
    print(
        f"{what:50} median {statistics.median(values):7.2f} ms  best {min(values):7.2f} ms"
        f"  ({runs} runs)",
        flush=True,
    )


def print_profile(profiler: cProfile.Profile, *, out: object = None) -> None:
    stats = pstats.Stats(profiler, stream=out or sys.stdout)  # type: ignore[arg-type]
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
