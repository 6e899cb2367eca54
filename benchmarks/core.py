"""Core figures: simulate vs one nn.LSTM forward, peak memory of the largest run, PNG export."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from lstm_core import LIMITS, RunConfig, simulate
from lstm_core.model.kernels import native_kernel
from lstm_core.model.simulate import build_model

ROOT = Path(__file__).resolve().parents[1]
# The core size: input 64, hidden 512, 10,000 steps.
CORE_CONFIG = RunConfig(input_dim=64, hidden_dim=512, seq_len=10_000)
# The largest run the caps allow (LIMITS, MAX_STATE_ELEMENTS): 10,000 steps × 512 units.
LARGEST = RunConfig(
    input_dim=LIMITS["input_dim"][1], hidden_dim=LIMITS["hidden_dim"][1], seq_len=10_000
)


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def simulate_ratio(repeats: int = 3) -> dict[str, float]:
    """Median seconds of simulate(CORE_CONFIG) and of one whole-sequence nn.LSTM forward on the
    same model, with PyTorch's default CPU backend (oneDNN) and on the native kernel."""
    # Every core, as a user's notebook has them; the ratio compares like with like either way.
    torch.set_num_threads(os.cpu_count() or 1)
    x, lstm = build_model(CORE_CONFIG)

    def forward() -> None:
        with torch.no_grad():
            lstm(x)

    def forward_native() -> None:
        with native_kernel(), torch.no_grad():
            lstm(x)

    forward()  # oneDNN's first call at a new shape builds its kernels: seconds
    simulate(CORE_CONFIG.replace(seq_len=50))  # TorchScript's first calls compile
    seconds = {"forward": [], "forward_native": [], "simulate": []}
    for _ in range(repeats):  # interleaved, so a busy spell hits all three alike
        seconds["forward"].append(median_seconds(forward, 1))
        seconds["forward_native"].append(median_seconds(forward_native, 1))
        seconds["simulate"].append(median_seconds(lambda: simulate(CORE_CONFIG), 1))
    out = {name: statistics.median(values) for name, values in seconds.items()}
    out["threads"] = torch.get_num_threads()
    out["ratio"] = out["simulate"] / out["forward"]
    out["ratio_native"] = out["simulate"] / out["forward_native"]
    return out


def peak_memory_gb(dtype: str) -> float:
    """Peak RSS (GB) of a fresh Python process that runs the largest allowed config and builds
    the Explorer's figures from it (`python -m benchmarks.core DTYPE`)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.core", dtype],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return float(done.stdout.strip().splitlines()[-1])


def png_export_seconds(config: RunConfig, units: int, repeats: int = 3) -> float:
    """Median seconds of a warm `export.figure_bytes(state_figure, "png")` for `config`."""
    from lstm_core.figures.states import state_figure
    from lstm_core.io.image import figure_bytes

    figure = state_figure(simulate(config), 0, 0, list(range(min(units, config.hidden_dim))))
    figure_bytes(figure, "png")  # starts kaleido's browser once per process
    return median_seconds(lambda: figure_bytes(figure, "png"), repeats)


def _largest_run(dtype: str) -> None:
    from lstm_core.figures.states import MAX_LINE_UNITS, state_figure, state_heatmap

    result = simulate(LARGEST.replace(dtype=dtype))
    state_figure(result, 0, 0, list(range(MAX_LINE_UNITS))).to_json()
    state_heatmap(result, 0, 0).to_json()
    # ru_maxrss is in KiB on Linux.
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9)


if __name__ == "__main__":
    _largest_run(sys.argv[1])
