"""In-process timings (and optional cProfile) of export, import and report on a database.

    python benchmarks/profile_core.py DB [--profile export|import|report] [--runs N]

Not part of the test suite; prints the best and median of N runs of each operation (the
same calls as `measure.py`'s core timings) and, with --profile, the top of a cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from koordinator.core.catalogue import Catalogue
from koordinator.core.db import DatabaseTarget, create_database, open_database
from koordinator.core.report import render, report_figures
from koordinator.core.sample import fill_fields_only
from koordinator.core.snapshot import import_snapshots, prepare_export, write_snapshot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", choices=("export", "import", "report"))
    parser.add_argument("--only", default="export,import,report")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="koordinator-profile-"))
    try:
        source = work / "source.db"
        shutil.copy(args.db, source)
        snapshot_path = work / "stand.toml"
        database = open_database(DatabaseTarget(source), read_only=True)
        write_snapshot(snapshot_path, prepare_export(database, author="bench").text)
        database.close()

        def export() -> None:
            database = open_database(DatabaseTarget(source), read_only=True)
            try:
                write_snapshot(snapshot_path, prepare_export(database, author="bench").text)
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
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
            return
        for name in args.only.split(","):
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
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
