"""Numbers behind the "Inside the cell" pages: gate saturation, time binning, one step written out.

Pure torch/numpy; no Streamlit. Thresholds follow Karpathy, Johnson & Fei-Fei 2015
("Visualizing and Understanding Recurrent Networks"): a sigmoid gate is left-saturated below
0.1 and right-saturated above 0.9. For the tanh candidate g the same idea uses -0.9 and 0.9.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lstm_core.model.simulate import GATE_NAMES, SimulationResult

# (left, right) saturation thresholds per gate: sigmoid gates live in [0, 1], g in [-1, 1].
SATURATION_THRESHOLDS: dict[str, tuple[float, float]] = {
    "i": (0.1, 0.9),
    "f": (0.1, 0.9),
    "g": (-0.9, 0.9),
    "o": (0.1, 0.9),
}
# Heatmap cells sent to the browser per gate panel at most (units x time columns). Four gate
# panels of 49,152 float32 cells are ~1.05 MB of base64, so the Gate inspector page stays under
# issue 6's 2 MB of chart data per page (131,072 made it 3.6 MB at 5000 x 256).
MAX_HEATMAP_CELLS = 49_152
# Time columns per heatmap at most, whatever the number of units.
MAX_HEATMAP_COLUMNS = 1000


def saturation_shares(
    gate: torch.Tensor | np.ndarray, left: float, right: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the share of steps with gate < left and with gate > right.

    gate: (T, H) values of one gate for one layer and batch item. Returns two float64 arrays
    of shape (H,), each in [0, 1].
    """
    values = np.asarray(gate, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(f"gate must be (T, H) with T >= 1, got shape {values.shape}")
    if not left < right:
        raise ValueError(f"left threshold {left} must be below right threshold {right}")
    return (values < left).mean(axis=0), (values > right).mean(axis=0)


def mean_per_unit(gate: torch.Tensor | np.ndarray) -> np.ndarray:
    """Mean over time per unit: (T, H) -> (H,) float64."""
    values = np.asarray(gate, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(f"gate must be (T, H) with T >= 1, got shape {values.shape}")
    return values.mean(axis=0)


def heatmap_columns(steps: int, units: int) -> int:
    """How many time columns a units x time heatmap may have on screen (1 <= n <= steps)."""
    if steps < 1 or units < 1:
        raise ValueError("steps and units must be at least 1")
    return max(1, min(steps, MAX_HEATMAP_COLUMNS, max(50, MAX_HEATMAP_CELLS // units)))


@dataclass(frozen=True)
class TimeBins:
    """Means of consecutive time bins. values: (H, n) float64; start, stop: (n,) step ranges."""

    values: np.ndarray
    start: np.ndarray  # first step of each bin
    stop: np.ndarray  # one past the last step of each bin

    @property
    def binned(self) -> bool:
        return bool(np.any(self.stop - self.start > 1))


def bin_time(values: torch.Tensor | np.ndarray, columns: int) -> TimeBins:
    """Average (T, H) values over `columns` near-equal consecutive time bins -> (H, columns).

    With columns >= T nothing is averaged: each column is one step.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"values must be (T, H) with T >= 1, got shape {array.shape}")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    steps = array.shape[0]
    n = min(columns, steps)
    edges = np.linspace(0, steps, n + 1).round().astype(np.int64)  # (n + 1,) strictly rising
    sums = np.add.reduceat(array, edges[:-1], axis=0)  # (n, H)
    counts = np.diff(edges)[:, None]
    return TimeBins(values=(sums / counts).T, start=edges[:-1], stop=edges[1:])


def decimate(y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a line kept to at most ~`points` points: per bin its minimum and maximum.

    y: (T,). Returns sorted step indices and their values; the first and last step are kept.
    Every step is kept when T <= points.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("y must be a non-empty 1-D array")
    if points < 4:
        raise ValueError("points must be at least 4")
    steps = y.size
    if steps <= points:
        index = np.arange(steps)
        return index, y
    bins = points // 2
    edges = np.linspace(0, steps, bins + 1).round().astype(np.int64)
    keep = {0, steps - 1}
    for start, stop in itertools.pairwise(edges):
        segment = y[start:stop]
        keep.add(int(start + segment.argmin()))
        keep.add(int(start + segment.argmax()))
    index = np.array(sorted(keep))
    return index, y[index]


@dataclass(frozen=True)
class StepBreakdown:
    """One step of the cell update for some units, every product in the run's dtype.

    Each field is a float64 array of shape (len(units),) holding the run's values exactly.
    c_lstm and h_lstm are nn.LSTM's own states at that step (the reference).
    """

    step: int
    units: tuple[int, ...]
    c_prev: np.ndarray  # C_{t-1} (zero at t = 0)
    f: np.ndarray
    i: np.ndarray
    g: np.ndarray
    o: np.ndarray
    kept: np.ndarray  # f ⊙ C_{t-1}
    written: np.ndarray  # i ⊙ g
    c: np.ndarray  # kept + written
    tanh_c: np.ndarray
    h: np.ndarray  # o ⊙ tanh(C_t)
    c_lstm: np.ndarray
    h_lstm: np.ndarray


def step_breakdown(
    result: SimulationResult, layer: int, batch: int, step: int, units: Sequence[int]
) -> StepBreakdown:
    """Step `step` of layer `layer`, batch item `batch`, written out for `units`.

    The products are recomputed from the stored gates in the run's dtype with the same
    operations as the hand-written cell, so c and h equal result.manual_c / manual_h.
    """
    config = result.config
    if not 0 <= layer < config.num_layers:
        raise ValueError(f"layer must be in 0..{config.num_layers - 1}, got {layer}")
    if not 0 <= batch < config.batch_size:
        raise ValueError(f"batch item must be in 0..{config.batch_size - 1}, got {batch}")
    if not 0 <= step < config.seq_len:
        raise ValueError(f"step must be in 0..{config.seq_len - 1}, got {step}")
    chosen = list(units)
    if not chosen:
        raise ValueError("pick at least one unit")
    bad = [u for u in chosen if not 0 <= u < config.hidden_dim]
    if bad:
        raise ValueError(f"units must be in 0..{config.hidden_dim - 1}, got {bad}")
    index = torch.tensor(chosen)
    gate = {name: result.gates[name][layer, batch, step, index] for name in GATE_NAMES}  # (U,)
    if step == 0:
        c_prev = torch.zeros_like(gate["f"])
    else:
        c_prev = result.manual_c[layer, batch, step - 1, index]  # (U,)
    kept = gate["f"] * c_prev
    written = gate["i"] * gate["g"]
    c = kept + written
    tanh_c = torch.tanh(c)
    h = gate["o"] * tanh_c

    def plain(tensor: torch.Tensor) -> np.ndarray:
        return tensor.double().numpy()

    return StepBreakdown(
        step=step,
        units=tuple(chosen),
        c_prev=plain(c_prev),
        f=plain(gate["f"]),
        i=plain(gate["i"]),
        g=plain(gate["g"]),
        o=plain(gate["o"]),
        kept=plain(kept),
        written=plain(written),
        c=plain(c),
        tanh_c=plain(tanh_c),
        h=plain(h),
        c_lstm=plain(result.c[layer, batch, step, index]),
        h_lstm=plain(result.h[layer, batch, step, index]),
    )


def plain_reading(c_prev: float, f: float, i: float, g: float, o: float, c: float, h: float) -> str:
    """One sentence per unit in plain words: what was forgotten, written and exposed."""
    forgotten = 1.0 - f
    if forgotten < 0.1:
        forget_text = f"keeps almost all of its memory ({f:.0%} of C_t-1 = {c_prev:.3g})"
    elif forgotten > 0.9:
        forget_text = f"wipes almost all of its memory (keeps only {f:.0%} of {c_prev:.3g})"
    else:
        forget_text = f"forgets {forgotten:.0%} of its memory C_t-1 = {c_prev:.3g}"
    written = i * g
    if i < 0.1:
        write_text = f"writes almost nothing (input gate {i:.2f})"
    else:
        write_text = f"writes {written:+.3g} ({i:.0%} of the candidate {g:+.3g})"
    if o < 0.1:
        expose_text = f"keeps C_t = {c:.3g} hidden (output gate {o:.2f}): h_t = {h:.3g}"
    else:
        expose_text = f"shows {o:.0%} of tanh(C_t) = {np.tanh(c):.3g}: h_t = {h:.3g}"
    return f"It {forget_text}, {write_text}, and {expose_text}."
