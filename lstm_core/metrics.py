"""Persistence, measured: how slowly a state changes from one step to the next.

Both measures are normalised per unit, because C is unbounded while |h| < 1: a raw |dC|
would call a large C "fast" only for being large.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

# A unit that never moves (spread below this) counts as fully persistent.
_FLAT = 1e-12


def lag1_autocorrelation(series: torch.Tensor) -> torch.Tensor:
    """Lag-1 autocorrelation per unit of `series` (T, N) -> (N,), float64.

    r1 = sum_t (s_t - m)(s_{t+1} - m) / sum_t (s_t - m)^2 with m the unit's mean. Near 1: the
    state at t+1 is mostly the state at t; near 0: fresh every step. A flat unit gives 1.
    """
    s = _as_series(series)
    centred = s - s.mean(dim=0)
    denominator = (centred**2).sum(dim=0)
    numerator = (centred[1:] * centred[:-1]).sum(dim=0)
    flat = denominator <= _FLAT * s.shape[0]
    return torch.where(flat, torch.ones_like(denominator), numerator / denominator.clamp_min(_FLAT))


def relative_step_change(series: torch.Tensor) -> torch.Tensor:
    """Mean |s_{t+1} - s_t| divided by the unit's standard deviation: (T, N) -> (N,), float64.

    About 1.13 (= 2/sqrt(pi)) for white noise, 2 for a sign flip every step, near 0 for a state
    that drifts slowly across its range. A flat unit gives 0.
    """
    s = _as_series(series)
    spread = s.std(dim=0, correction=0)
    step = (s[1:] - s[:-1]).abs().mean(dim=0)
    flat = spread <= _FLAT
    return torch.where(flat, torch.zeros_like(spread), step / spread.clamp_min(_FLAT))


def predicted_half_life(mean_forget: float) -> float:
    """Steps for C to halve if every step multiplied it by `mean_forget`: ln 0.5 / ln f."""
    if not 0.0 < mean_forget < 1.0:
        return math.inf if mean_forget >= 1.0 else 0.0
    return math.log(0.5) / math.log(mean_forget)


@dataclass(frozen=True)
class Persistence:
    """Medians over units of one layer and batch item; see the functions above."""

    autocorr_h: float
    autocorr_c: float
    step_change_h: float
    step_change_c: float
    mean_forget: float  # mean forget gate over units and steps
    predicted_half_life_c: float  # ln 0.5 / ln(mean_forget), steps
    c_persists: bool
    verdict: str

    def to_dict(self) -> dict[str, float | bool | str]:
        return asdict(self)


# C counts as the persistent state only when it beats h clearly on both measures.
AUTOCORR_MARGIN = 0.1
STEP_CHANGE_RATIO = 0.6


def persistence(hidden: torch.Tensor, cell: torch.Tensor, forget_gate: torch.Tensor) -> Persistence:
    """Compare how persistent C and h are; inputs (T, N) each for one layer and batch item."""
    if hidden.shape != cell.shape or hidden.shape != forget_gate.shape:
        raise ValueError("hidden, cell and forget_gate must have the same (T, N) shape")
    if hidden.shape[0] < 3:
        return Persistence(
            *(math.nan,) * 4,
            mean_forget=float(forget_gate.double().mean()),
            predicted_half_life_c=predicted_half_life(float(forget_gate.double().mean())),
            c_persists=False,
            verdict="Too few steps to measure persistence: use seq_len 3 or more.",
        )
    autocorr_h = float(lag1_autocorrelation(hidden).median())
    autocorr_c = float(lag1_autocorrelation(cell).median())
    step_h = float(relative_step_change(hidden).median())
    step_c = float(relative_step_change(cell).median())
    mean_forget = float(forget_gate.double().mean())
    half_life = predicted_half_life(mean_forget)
    persists = autocorr_c >= autocorr_h + AUTOCORR_MARGIN and step_c <= STEP_CHANGE_RATIO * step_h
    numbers = (
        f"lag-1 autocorrelation C {autocorr_c:.2f} vs h {autocorr_h:.2f}; "
        f"change per step C {step_c:.2f} vs h {step_h:.2f} of its spread"
    )
    if persists:
        verdict = f"C persists while h fluctuates: {numbers}."
    else:
        verdict = (
            f"This configuration does NOT show C persisting: {numbers}. "
            f"The mean forget gate is {mean_forget:.2f}, so C keeps about {mean_forget:.0%} of "
            f"itself per step (half-life {half_life:.1f} steps)."
        )
        if mean_forget < 0.8:
            verdict += " Raise the forget bias (+1 or +3) to make C the slow state."
    return Persistence(
        autocorr_h=autocorr_h,
        autocorr_c=autocorr_c,
        step_change_h=step_h,
        step_change_c=step_c,
        mean_forget=mean_forget,
        predicted_half_life_c=half_life,
        c_persists=persists,
        verdict=verdict,
    )


def _as_series(series: torch.Tensor) -> torch.Tensor:
    if series.dim() == 1:
        series = series.unsqueeze(1)
    if series.dim() != 2 or series.shape[0] < 2:
        raise ValueError("series must be (T, N) with T >= 2")
    return series.double()
