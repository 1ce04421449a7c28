"""Export, import and FB 12's merge of two source trees side by side, in one run (issue 14).

    python benchmarks/compare.py DB BASELINE_TREE [--rounds 5] [--baseline-db DB2]

Not part of the test suite.  Alternates the baseline tree and this one (`PYTHONPATH=TREE/src`,
this Python) round by round, so that a busy moment of the machine hits both alike: each round
runs `profile_core.py DB --only export,import --runs 1` and `merge.py --runs 1` once per tree.
Prints every round, then the medians and the ratio this tree / baseline.  A baseline with
another schema gets its own database (`--baseline-db`, made by its own `generate.py` with the
same seed), as a tree cannot open a database of a newer schema.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
_FIGURE = re.compile(r"^(export|import|import \(in-process\)|import \(CLI\))\s+\S+\s+([0-9.]+) s")


def figures(tree: Path, db: Path, config: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "KOORDINATOR_CONFIG_DIR": str(config)}
    found: dict[str, float] = {}
    for script, extra in (
        ("profile_core.py", [str(db), "--only", "export,import", "--runs", "1"]),
        ("merge.py", ["--runs", "1"]),
    ):
        output = subprocess.run(
            [sys.executable, str(HERE / script), *extra],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        for line in output.splitlines():
            match = _FIGURE.match(line)
            if match:
                name = match.group(1)
                found["merge " + name if script == "merge.py" else name] = float(match.group(2))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("baseline", type=Path, help="a checkout of the baseline (its src/)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-db", type=Path, help="the baseline's database (default: DB)")
    args = parser.parse_args()
    trees = {"baseline": args.baseline.resolve(), "this tree": HERE.parent}
    databases = {"baseline": args.baseline_db or args.db, "this tree": args.db}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as config:
        for round_number in range(args.rounds):
            for name, tree in trees.items():
                results[name].append(figures(tree, databases[name], Path(config)))
                print(f"round {round_number + 1} {name:9}: {results[name][-1]}", flush=True)
    print(f"\n| step | baseline (median) | this tree (median) | ratio |  ({args.rounds} rounds)")
    print("| --- | --- | --- | --- |")
    for step in results["this tree"][0]:
        base = statistics.median(r[step] for r in results["baseline"])
        mine = statistics.median(r[step] for r in results["this tree"])
        print(f"| {step} | {base:.2f} s | {mine:.2f} s | {mine / base:.2f} × |")


if __name__ == "__main__":
    main()
