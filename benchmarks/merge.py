"""FB 12's merge: 20 coordinators' snapshots of the sample imported in one go (issue 14).

    python benchmarks/merge.py [--coordinators 20] [--runs 5] [--keep DIR]

Not part of the test suite.  Builds the sample catalogue, gives each of 20 coordinators a
copy with a few changes of their own (a status move, a milestone, a note edited, and a new
measure in field 1, so that every new measure but one meets a number clash and is
renumbered), exports each copy, and then times what FB 12 does: one import of all 20 files
into its own copy of the sample, in-process (`import_snapshots`) and as the command line
(`koordinator --db FB12 import F1 ... F20`, process start to exit).  Every run works on a
fresh copy of FB 12's database; the median and best of `--runs` are printed.  With
`PYTHONPATH=OTHER/src` it measures another tree (the files are then made by that tree too).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from koordinator.core.dates import LooseDate
from koordinator.core.files import write_text
from koordinator.core.service import Catalogue
from koordinator.core.snapshot import import_snapshots, prepare_export
from koordinator.core.store.sample import fill_sample
from koordinator.core.store.sqlite_store import DatabaseTarget, create_database, open_database
from koordinator.core.workflow import Status

# Moves that need no more input than a note (as in profile_core.py).
ONE_STEP = {
    Status.PLANNING: Status.ON_SCHEDULE,
    Status.DELAYED: Status.ON_SCHEDULE,
    Status.ON_SCHEDULE: Status.ESTABLISHED,
}


def coordinator_copy(sample: Path, path: Path, index: int, rng: random.Random) -> None:
    """A copy of the sample with a few changes of coordinator `index`."""
    shutil.copyfile(sample, path)
    database = open_database(DatabaseTarget(path))
    try:
        catalogue = Catalogue(database, author=f"Koordination {index + 1:02d}")
        measures = catalogue.list_measures()
        movable = [m for m in measures if Status(m.status) in ONE_STEP]
        moved = rng.choice(movable)
        catalogue.change_status(moved.number, ONE_STEP[Status(moved.status)])
        catalogue.add_milestone(
            rng.choice(measures).number, f"Abstimmung {index + 1}", due=LooseDate(2027, 3)
        )
        catalogue.edit_measure(rng.choice(measures).number, note=f"geprüft von {index + 1}")
        catalogue.create_measure(1, f"Neue Maßnahme der Koordination {index + 1}")
    finally:
        database.close()


def export(path: Path, target: Path) -> None:
    database = open_database(DatabaseTarget(path), read_only=True)
    try:
        write_text(target, prepare_export(database, author="bench").text)
    finally:
        database.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--coordinators", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="koordinator-merge-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(args, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    rng = random.Random(args.seed)
    sample = work / "sample.db"
    sample.unlink(missing_ok=True)
    create_database(sample, fill=fill_sample)
    files = []
    for index in range(args.coordinators):
        copy = work / f"koordination-{index + 1:02d}.db"
        coordinator_copy(sample, copy, index, rng)
        files.append(work / f"koordination-{index + 1:02d}.toml")
        export(copy, files[-1])
    fb12 = work / "fb12.db"

    def fresh() -> Path:
        for stale in work.glob("fb12.db*"):
            stale.unlink()
        shutil.copyfile(sample, fb12)
        return fb12

    def in_process() -> float:
        database = open_database(DatabaseTarget(fresh()))
        try:
            started = time.perf_counter()
            result = import_snapshots(database, files)
            seconds = time.perf_counter() - started
        finally:
            database.close()
        assert len(result.plan.measures) > args.coordinators, "nothing merged"
        return seconds

    def command_line() -> float:
        fresh()
        command = [
            sys.executable,
            "-m",
            "koordinator",
            "--db",
            str(fb12),
            "import",
            *map(str, files),
        ]
        env = {**os.environ, "KOORDINATOR_USER": "FB 12"}
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - started

    for name, step in (("import (in-process)", in_process), ("import (CLI)", command_line)):
        step()  # warm-up
        timings = [step() for _ in range(args.runs)]
        print(
            f"{name:20} median {statistics.median(timings):6.3f} s  best {min(timings):6.3f} s"
            f"  ({args.runs} runs, {args.coordinators} files)",
            flush=True,
        )


if __name__ == "__main__":
    main()
