"""`python -m benchmarks.claim_grid [--preset NAME] [--seeds N] [--quick]`: the claim over sizes.

For each size on the grid (hidden x steps x input, the caps' corners and middles) and a few
seeds, runs the preset at that size through `simulate` and prints one markdown row: memory
times and step changes of h and C (medians over units, then the median over seeds) and each
seed's regime. The README's table "The claim at every size" is this script's output.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import statistics

from lstm_core.analysis.metrics import Persistence, persistence
from lstm_core.model.config import OPENING_PRESET, PRESETS
from lstm_core.model.simulate import simulate

HIDDEN = (8, 64, 512)
STEPS = (100, 1000, 10_000)
INPUTS = (1, 4, 64)


def measure(preset: str, hidden: int, steps: int, inputs: int, seed: int) -> Persistence:
    """The persistence measures of layer 0, batch item 0 of `preset` at one size and seed."""
    config = PRESETS[preset].replace(hidden_dim=hidden, seq_len=steps, input_dim=inputs, seed=seed)
    result = simulate(config)
    return persistence(result.h[0, 0], result.c[0, 0], result.gates["f"][0, 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=OPENING_PRESET, choices=sorted(PRESETS))
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per size")
    parser.add_argument("--quick", action="store_true", help="steps 100 and 1000 only")
    args = parser.parse_args()
    steps_grid = STEPS[:2] if args.quick else STEPS
    load = os.getloadavg()
    print(
        f"{args.preset}, seeds 0-{args.seeds - 1}, "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n"
    )
    print(
        "| hidden | steps | input | memory time C | memory time h | step change C "
        "| step change h | regime per seed |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    held = total = 0
    for hidden, steps, inputs in itertools.product(HIDDEN, steps_grid, INPUTS):
        rows = [measure(args.preset, hidden, steps, inputs, s) for s in range(args.seeds)]
        cap = rows[0].memory_time_cap

        def med(name: str, rows: list[Persistence] = rows) -> float:
            return statistics.median(getattr(row, name) for row in rows)

        def memory(name: str, cap: float = cap) -> str:
            value = med(name)
            return f"≥ {cap:.0f}" if value >= cap else f"{value:.1f}"

        held += sum(row.c_persists for row in rows)
        total += len(rows)
        print(
            f"| {hidden} | {steps:,} | {inputs} | {memory('memory_time_c')} "
            f"| {memory('memory_time_h')} | {med('step_change_c'):.2f} "
            f"| {med('step_change_h'):.2f} | {', '.join(row.regime for row in rows)} |",
            flush=True,
        )
    print(f"\nThe claim holds in {held} of {total} runs.")


if __name__ == "__main__":
    main()
