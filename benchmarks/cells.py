"""`python -m benchmarks.cells [--repeats N]`: what the first view of the code model costs a
server process, each measurement in a fresh Python process (nothing cached, as after a start).

- trace: `run_source` on the shipped code model (the first 2,000 characters of its held-out
  source, every state and gate): what the Gate inspector, Step through and Tensor shapes wait
  for.
- trace + cells: that and `rank_cells` (every unit ranked over the whole held-out file): what
  the Explorer waits for.
Prints the median seconds and the median peak RSS above the process before the work (the
imports and the weights), with the 1-minute load average before each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKS = ("trace", "trace + cells")


def _one(work: str) -> None:
    import torch

    from lstm_core.model.source import ModelSource, rank_cells, run_source, trained_weights_path

    torch.set_num_threads(1)  # as one server session's run; the machine's noise matters less
    weights = trained_weights_path("code").read_bytes()
    source = ModelSource(kind="code")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    run_source(source, weights)
    if work == "trace + cells":
        rank_cells(source, weights)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": (peak - before) * 1024 / 1e6}))


def measure(work: str) -> dict[str, float]:
    """One fresh process doing `work`: {"seconds", "peak_mb", "load"}."""
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.cells", "--one", work],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cells", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=WORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.one)
        return
    results: dict[str, list[dict[str, float]]] = {work: [] for work in WORKS}
    for _ in range(args.repeats):  # interleaved, so a busy spell hits both alike
        for work in WORKS:
            results[work].append(measure(work))
    print("| first view of the code model | median s | median peak RSS above start | load |")
    print("|---|---|---|---|")
    for work, rows in results.items():
        loads = [row["load"] for row in rows]
        print(
            f"| {work} | {statistics.median(row['seconds'] for row in rows):.1f} "
            f"| {statistics.median(row['peak_mb'] for row in rows):.0f} MB "
            f"| {min(loads):.1f}-{max(loads):.1f} |"
        )


if __name__ == "__main__":
    main()
