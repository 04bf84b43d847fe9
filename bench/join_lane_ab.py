"""Benchmark: an interleaved A/B of the join lane alone (bench/join_lane.py), two trees.

Usage: uv run python bench/join_lane_ab.py TREE_A TREE_B [--rounds R] [--batch B]
           [--batches N] [--contests 1|8] [--postgres-url URL]

Each side is a checkout of this project with its own environment (`uv sync` in it), as for
bench/join_ab.py: `TREE/.venv/bin/python TREE/bench/join_lane.py` runs that tree's lane.
The two run one after the other, A then B in even rounds and B then A in odd ones, so
that the machine's drift falls on both alike; each run prepares its database afresh.
Prints one line a run as it goes, then one JSON line: the medians of each side's wall
time and CPU a batch, their ratios (A over B: above 1, B is faster), and each pair's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

from harness import emit, median


def lane_run(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One run of `tree`'s bench/join_lane.py; its JSON line."""
    command = [
        str(tree / ".venv" / "bin" / "python"), str(tree / "bench" / "join_lane.py"),
        "--batch", str(args.batch), "--batches", str(args.batches),
        "--contests", str(args.contests),
    ]  # fmt: skip
    if args.postgres_url:
        command += ["--postgres-url", args.postgres_url]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tree, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree}'s lane failed ({done.returncode}):\n{done.stderr}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            record: dict[str, Any] = json.loads(line)
            return record
    raise SystemExit(f"{tree}'s lane printed no figure:\n{done.stdout}")


def run(args: argparse.Namespace) -> dict[str, object]:
    trees = {"A": Path(args.tree_a).resolve(), "B": Path(args.tree_b).resolve()}
    runs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    for round_ in range(args.rounds):
        for side in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
            record = lane_run(trees[side], args)
            runs[side].append(record)
            print(
                f"{side} round {round_}: {record['wall_ms_a_batch']} ms a batch, "
                f"{record['cpu_ms_a_batch']} ms of CPU",
                flush=True,
            )

    def figures(key: str) -> dict[str, object]:
        a = [r[key] for r in runs["A"]]
        b = [r[key] for r in runs["B"]]
        return {
            "a": median(a),
            "b": median(b),
            "a_over_b": round(median(a) / median(b), 3),
            "pairs_a_over_b": [round(x / y, 3) for x, y in zip(a, b, strict=True)],
        }

    return {
        "scenario": "join_lane_ab",
        "a": str(trees["A"]),
        "b": str(trees["B"]),
        "contests": args.contests,
        "batch": args.batch,
        "batches": args.batches,
        "wall_ms_a_batch": figures("wall_ms_a_batch"),
        "cpu_ms_a_batch": figures("cpu_ms_a_batch"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree_a")
    parser.add_argument("tree_b")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--contests", type=int, choices=(1, 8), default=1)
    parser.add_argument("--postgres-url", default=None)
    emit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
