"""Persistence, measured: how long each state remembers, and how much it moves per step.

The primary figure is the memory time: the integrated autocorrelation time of each unit, in
steps (white noise 1, an AR(1) series with coefficient phi (1 + phi) / (1 - phi)). Lag-1
autocorrelation and the step change are secondary. Every measure is normalised per unit,
because C is unbounded while |h| < 1: a raw |dC| would call a large C "fast" only for being
large.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch

from lstm_core.model.config import LIMITS, MAX_STATE_ELEMENTS, RunConfig, opening_preset

# A unit that never moves (spread below this) counts as fully persistent.
_FLAT = 1e-12

# Sokal's automatic window (Sokal 1997, "Monte Carlo methods in statistical mechanics", sec. 3;
# also emcee's autocorr): tau(M) = 1 + 2 * sum_{k=1..M} rho(k) is summed up to the first lag M
# with M >= WINDOW_FACTOR * tau(M). Shorter windows miss the tail; longer ones add noise.
WINDOW_FACTOR = 5.0
# Lags up to this share of the run only: at lag k just T - k pairs are averaged, and past T/2
# the estimate of rho(k) is mostly noise. With the window rule above, a run of T steps
# measures memory times up to memory_time_cap(T) = (T / 2) / 5 = T / 10.
MAX_LAG_FRACTION = 0.5
# The measures in words, for the pages' help.
MEMORY_TIME_MEANING = (
    "How long C remembers: its integrated autocorrelation time 1 + 2 Σ ρ(k), median over "
    "units, summed over Sokal's window (lags up to 5 × the estimate). White noise gives 1, a "
    "state that keeps a share φ of itself each step (1 + φ)/(1 − φ)."
)
MEAN_FORGET_MEANING = "Mean of f_t over units and steps: C keeps this share of itself per step."


def autocorrelation(series: torch.Tensor, max_lag: int | None = None) -> torch.Tensor:
    """Autocorrelation per unit of `series` (T, N) at lags 0..max_lag: (max_lag + 1, N) float64.

    rho(k) = sum_t (s_t - m)(s_{t+k} - m) / sum_t (s_t - m)^2 (the usual biased estimate), via
    the FFT: O(T log T) per unit. `max_lag` defaults to T - 1. A flat unit gives 1 at every lag.
    """
    s = _as_series(series)
    steps = s.shape[0]
    max_lag = steps - 1 if max_lag is None else min(max_lag, steps - 1)
    centred = s - s.mean(dim=0)
    # Zero padding to >= T + max_lag keeps the circular correlation from wrapping around.
    size = 1 << (steps + max_lag).bit_length()
    spectrum = torch.fft.rfft(centred, n=size, dim=0)
    covariance = torch.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=size, dim=0)
    covariance = covariance[: max_lag + 1]
    variance = covariance[0]
    flat = variance <= _FLAT * steps
    return torch.where(flat, torch.ones_like(covariance), covariance / variance.clamp_min(_FLAT))


def memory_time_cap(steps: int) -> float:
    """The longest memory time a run of `steps` steps can measure, in steps (T / 10)."""
    return max(1, int(steps * MAX_LAG_FRACTION)) / WINDOW_FACTOR


def memory_time(series: torch.Tensor) -> torch.Tensor:
    """Memory time per unit of `series` (T, N) -> (N,) float64, in steps, at most the cap.

    The integrated autocorrelation time tau = 1 + 2 * sum_k rho(k), summed over Sokal's window
    (see WINDOW_FACTOR). White noise gives 1, a state that keeps a share phi of itself each
    step (1 + phi) / (1 - phi). A unit whose window does not close within MAX_LAG_FRACTION of
    the run (a random walk, or a memory too long for this run) gets memory_time_cap(T): the
    run is too short to say more than "at least this". A flat unit gets the cap too. An
    estimate below 0 (a state that flips sign every step, on a short run) counts as 0, the
    true value's floor.
    """
    s = _as_series(series)
    max_window = max(1, int(s.shape[0] * MAX_LAG_FRACTION))
    rho = autocorrelation(s, max_window)  # (max_window + 1, N)
    tau = 1.0 + 2.0 * torch.cumsum(rho[1:], dim=0)  # tau(M) for M = 1..max_window
    windows = torch.arange(1, tau.shape[0] + 1, dtype=tau.dtype).unsqueeze(1)  # (M, 1)
    closed = windows >= WINDOW_FACTOR * tau
    first = closed.to(torch.int8).argmax(dim=0)  # first closed window (0 if none)
    estimate = tau.gather(0, first.unsqueeze(0))[0]
    cap = memory_time_cap(s.shape[0])
    return torch.where(closed.any(dim=0), estimate.clamp(0.0, cap), torch.full_like(estimate, cap))


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


# predicted_half_life in symbols, for the pages that show it.
HALF_LIFE_FORMULA = "ln 0.5 / ln f̄"


def predicted_half_life(mean_forget: float) -> float:
    """Steps for C to halve if every step multiplied it by `mean_forget`: ln 0.5 / ln f."""
    if not 0.0 < mean_forget < 1.0:
        return math.inf if mean_forget >= 1.0 else 0.0
    return math.log(0.5) / math.log(mean_forget)


# The claim "C persists while h fluctuates" holds when both halves do:
# - h fluctuates: its step change is at least STEP_CHANGE_RATIO times C's and at least
#   MIN_STEP_CHANGE_H of its own spread (white noise moves 1.13, a sign flip every step 2);
# - C persists: its memory time is at least h's, and h's is measured (below the run's cap).
STEP_CHANGE_RATIO = 2.0
MIN_STEP_CHANGE_H = 0.25
# Fewer steps than this cannot measure a memory time (the cap, T / 10, would be below 2 steps).
MIN_STEPS = 20
# A mean forget gate this close to 0.5 is PyTorch's default init: C halves every step.
DEFAULT_INIT_TOLERANCE = 0.1
# h = o * tanh(C) is pinned near +-o when |tanh C| is above SATURATION_LEVEL for more than
# SATURATED_SHARE of all steps and units.
SATURATION_LEVEL = 0.95
SATURATED_SHARE = 0.5

# Regimes: a short word each, the `regime` of `run --json`.
REGIMES: dict[str, str] = {
    "persists": "C persists while h fluctuates.",
    "too-short": "The run is too short to measure how long h remembers.",
    "default-init": (
        "The forget gate is about 0.5, as PyTorch's default init makes it: C halves every "
        "step, so both states forget within a few steps and C is not the slow state."
    ),
    "saturated": (
        "C has grown so large that tanh(C) is pinned at ±1: h only switches between ±o and "
        "barely moves between switches."
    ),
    "smooth-h": (
        "h is too slow to fluctuate: the input moves the gates too little, so h follows the slow C."
    ),
    "c-not-slower": (
        "C is not clearly slower than h: it moves at least half as much per step, or forgets "
        "sooner."
    ),
}


@dataclass(frozen=True)
class Fix:
    """A settings change that shows the claim: `changes` maps RunConfig field -> new value."""

    label: str  # the button's text
    changes: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "changes": dict(self.changes)}


@dataclass(frozen=True)
class Persistence:
    """Medians over units of one layer and batch item; see the functions above."""

    memory_time_h: float  # steps, median over units, at most memory_time_cap
    memory_time_c: float
    memory_time_cap: float  # the longest memory time this run can measure, steps
    autocorr_h: float
    autocorr_c: float
    step_change_h: float
    step_change_c: float
    mean_forget: float  # mean forget gate over units and steps
    predicted_half_life_c: float  # ln 0.5 / ln(mean_forget), steps
    saturated_share: float  # share of steps x units with |tanh C| > SATURATION_LEVEL
    c_persists: bool  # both halves of the claim hold
    regime: str  # a key of REGIMES
    verdict: str

    def to_dict(self) -> dict[str, float | bool | str | None]:
        """Plain JSON-ready values; a figure that is not a finite number is None: NaN where the
        run is too short to measure it, infinite for the half-life of a C that never decays."""
        return {
            name: None if isinstance(value, float) and not math.isfinite(value) else value
            for name, value in asdict(self).items()
        }


def is_default_init(mean_forget: float) -> bool:
    """A mean forget gate near 0.5, as PyTorch's default init gives: C halves every step."""
    return abs(mean_forget - 0.5) <= DEFAULT_INIT_TOLERANCE


def classify(
    *,
    steps: int,
    memory_time_h: float,
    memory_time_c: float,
    step_change_h: float,
    step_change_c: float,
    mean_forget: float,
    saturated_share: float,
) -> str:
    """The regime (a key of REGIMES) from the medians; "persists" exactly when both halves hold.

    A failing run is named by its first match: fewer than MIN_STEPS steps, default init,
    saturated (pinned and still), smooth h, h's memory not measured below the cap (too short),
    else C not slower. A still h is named before the cap: its memory time is long because it
    barely moves, and a longer run would not make it fluctuate.
    """
    cap = memory_time_cap(steps)
    measured = steps >= MIN_STEPS and memory_time_h < cap
    h_fluctuates = (
        step_change_h >= STEP_CHANGE_RATIO * step_change_c and step_change_h >= MIN_STEP_CHANGE_H
    )
    c_persists = measured and memory_time_c >= memory_time_h
    if h_fluctuates and c_persists:
        return "persists"
    if steps < MIN_STEPS:
        return "too-short"
    if is_default_init(mean_forget):
        return "default-init"
    if step_change_h < MIN_STEP_CHANGE_H:
        return "saturated" if saturated_share > SATURATED_SHARE else "smooth-h"
    if not measured:
        return "too-short"
    return "c-not-slower"


def persistence(hidden: torch.Tensor, cell: torch.Tensor, forget_gate: torch.Tensor) -> Persistence:
    """Compare how persistent C and h are; inputs (T, N) each for one layer and batch item."""
    if hidden.shape != cell.shape or hidden.shape != forget_gate.shape:
        raise ValueError("hidden, cell and forget_gate must have the same (T, N) shape")
    steps = hidden.shape[0]
    mean_forget = float(forget_gate.double().mean())
    half_life = predicted_half_life(mean_forget)
    saturated = float((torch.tanh(cell.double()).abs() > SATURATION_LEVEL).double().mean())
    cap = memory_time_cap(steps) if steps >= 2 else math.nan
    if steps < 3:
        return Persistence(
            *(math.nan,) * 2,
            cap,
            *(math.nan,) * 4,
            mean_forget=mean_forget,
            predicted_half_life_c=half_life,
            saturated_share=saturated,
            c_persists=False,
            regime="too-short",
            verdict=f"This run does NOT show C persisting. {REGIMES['too-short']}",
        )
    medians = {
        "memory_time_h": float(memory_time(hidden).median()),
        "memory_time_c": float(memory_time(cell).median()),
        "step_change_h": float(relative_step_change(hidden).median()),
        "step_change_c": float(relative_step_change(cell).median()),
    }
    regime = classify(steps=steps, mean_forget=mean_forget, saturated_share=saturated, **medians)
    numbers = (
        f"memory time C {_steps(medians['memory_time_c'], cap)} vs h "
        f"{_steps(medians['memory_time_h'], cap)}; change per step C "
        f"{medians['step_change_c']:.2f} vs h {medians['step_change_h']:.2f} of its spread"
    )
    if steps < MIN_STEPS:  # no memory time can be measured: name only the step changes
        numbers = (
            f"change per step C {medians['step_change_c']:.2f} vs h "
            f"{medians['step_change_h']:.2f} of its spread"
        )
        # The cap (T / 10) is under two steps here: an estimate would say nothing.
        medians["memory_time_h"] = medians["memory_time_c"] = math.nan
    if regime == "persists":
        verdict = f"C persists while h fluctuates: {numbers}."
    else:
        verdict = f"This run does NOT show C persisting. {REGIMES[regime]} ({numbers}.)"
        if regime == "default-init":
            verdict += (
                f" The mean forget gate is {mean_forget:.2f}: C keeps {mean_forget:.0%} of "
                f"itself per step (half-life {half_life:.1f} steps)."
            )
        elif regime == "saturated":
            verdict += f" |tanh C| > {SATURATION_LEVEL} in {saturated:.0%} of steps."
    return Persistence(
        memory_time_cap=cap,
        autocorr_h=float(lag1_autocorrelation(hidden).median()),
        autocorr_c=float(lag1_autocorrelation(cell).median()),
        mean_forget=mean_forget,
        predicted_half_life_c=half_life,
        saturated_share=saturated,
        c_persists=regime == "persists",
        regime=regime,
        verdict=verdict,
        **medians,
    )


def suggested_fix(regime: str, config: RunConfig) -> Fix | None:
    """One settings change that shows the claim for a failing `regime`, or None.

    "too-short": ten times the steps (within the caps). Any other failing regime: the opening
    preset's non-size settings at this size. None when the claim holds or nothing is left to
    change (the page then says this size cannot show it, and why).
    """
    if regime == "persists":
        return None
    if regime == "too-short":
        if config.signal == "csv":
            return None  # the steps are the file's rows: only a longer file makes a longer run
        per_step = config.num_layers * config.batch_size * config.hidden_dim
        longest = min(LIMITS["seq_len"][1], MAX_STATE_ELEMENTS // per_step)
        steps = min(longest, max(100, 10 * config.seq_len))
        if steps <= config.seq_len:
            return None
        return Fix(f"Run {steps:,} steps", {"seq_len": steps})
    preset = opening_preset(config)
    changes = {
        name: getattr(preset, name)
        for name in FIX_SETTINGS
        if getattr(preset, name) != getattr(config, name)
    }
    if config.signal == "csv":
        changes.pop("signal", None)  # keep the user's own input; change only the init
    if not changes:
        return None
    shown = ", ".join(
        f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
        for name, value in changes.items()
    )
    # The label names every change: the input's kind may change too, not only the init.
    return Fix(f"Use the opening preset's {shown} at this size", changes)


# What suggested_fix may change: the init and the input's kind, never the sizes or the seed.
FIX_SETTINGS: tuple[str, ...] = ("forget_bias", "chrono_t_max", "input_scale", "signal")


def _steps(value: float, cap: float) -> str:
    """'12.3 steps', or '≥ 10 steps' at the cap."""
    return f"≥ {cap:.0f} steps" if value >= cap else f"{value:.1f} steps"


def _as_series(series: torch.Tensor) -> torch.Tensor:
    if series.dim() == 1:
        series = series.unsqueeze(1)
    if series.dim() != 2 or series.shape[0] < 2:
        raise ValueError("series must be (T, N) with T >= 2")
    return series.double()


def memory_text(value: float, cap: float) -> str:
    """A memory time: '12.3', '≥ 10' at the run's cap, 'n/a' if not measured."""
    if math.isnan(value) or math.isnan(cap):
        return "n/a"
    return f"≥ {cap:.0f}" if value >= cap else f"{value:.1f}"


def memory_cap_note(steps: int, cap: float) -> str:
    """What a run of `steps` steps can measure of a memory time, for the metrics' help."""
    if steps < MIN_STEPS:
        return f"A run needs at least {MIN_STEPS} steps to measure a memory time."
    return (
        f"A run of {steps:,} steps measures memory times up to {cap:.0f} steps; '≥' marks the cap."
    )


def measure_text(value: float) -> str:
    """A measured number to two decimals, or 'n/a' where the run is too short to measure it."""
    return "n/a" if math.isnan(value) else f"{value:.2f}"
