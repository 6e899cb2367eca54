"""Gate saturation: how often each gate sits near an end of its range, and its mean per unit.

Pure torch/numpy; no Streamlit. Thresholds follow Karpathy, Johnson & Fei-Fei 2015
("Visualizing and Understanding Recurrent Networks"): a sigmoid gate is left-saturated below
0.1 and right-saturated above 0.9; for the tanh candidate g the same idea gives -0.9 and 0.9.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_core.model.cell import GATE_RANGES, CellUpdate

# A gate is saturated within this distance of an end of its range (lstm_core.model.cell).
SATURATION_MARGIN = 0.1
# (left, right) saturation thresholds per gate: (0.1, 0.9) for i, f, o; (-0.9, 0.9) for g.
SATURATION_THRESHOLDS: dict[str, tuple[float, float]] = {
    name: (round(low + SATURATION_MARGIN, 12), round(high - SATURATION_MARGIN, 12))
    for name, (low, high) in GATE_RANGES.items()
}


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


def forget_gate_of_bias(bias: float) -> float:
    """σ(bias): the forget gate a bias gives while the gate's other inputs are near 0."""
    return float(torch.sigmoid(torch.tensor(bias, dtype=torch.float64)))


def update_reading(update: CellUpdate, index: int) -> str:
    """One unit's update in plain words: what was forgotten, written and exposed. A gate
    within SATURATION_MARGIN of an end of its range reads as "almost all" or "almost nothing"."""
    c_prev, f, i, g, o = (getattr(update, name)[index] for name in ("c_prev", "f", "i", "g", "o"))
    c, h, tanh_c = update.c[index], update.h[index], update.tanh_c[index]
    shut, open_ = SATURATION_THRESHOLDS["f"]
    if f > open_:
        forget_text = f"keeps almost all of its memory ({f:.0%} of C_t-1 = {c_prev:.3g})"
    elif f < shut:
        forget_text = f"wipes almost all of its memory (keeps only {f:.0%} of {c_prev:.3g})"
    else:
        forget_text = f"forgets {1.0 - f:.0%} of its memory C_t-1 = {c_prev:.3g}"
    if i < SATURATION_THRESHOLDS["i"][0]:
        write_text = f"writes almost nothing (input gate {i:.2f})"
    else:
        write_text = f"writes {update.written[index]:+.3g} ({i:.0%} of the candidate {g:+.3g})"
    if o < SATURATION_THRESHOLDS["o"][0]:
        expose_text = f"keeps C_t = {c:.3g} hidden (output gate {o:.2f}): h_t = {h:.3g}"
    else:
        expose_text = f"shows {o:.0%} of tanh(C_t) = {tanh_c:.3g}: h_t = {h:.3g}"
    return f"It {forget_text}, {write_text}, and {expose_text}."
