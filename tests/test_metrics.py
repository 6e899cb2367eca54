"""Persistence measures on hand-made series with known answers."""

from __future__ import annotations

import math

import pytest
import torch

from lstm_core.metrics import (
    lag1_autocorrelation,
    persistence,
    predicted_half_life,
    relative_step_change,
)


def test_alternating_series() -> None:
    n = 1000
    series = torch.tensor([(-1.0) ** t for t in range(n)])
    # sum of n-1 products of -1 over n squares of 1
    assert lag1_autocorrelation(series).item() == pytest.approx(-(n - 1) / n)
    # every step moves by 2, the spread is 1
    assert relative_step_change(series).item() == pytest.approx(2.0)


def test_linear_ramp_is_persistent() -> None:
    series = torch.arange(500, dtype=torch.float64)
    assert lag1_autocorrelation(series).item() > 0.99
    # each step is 1; std of 0..n-1 is sqrt((n^2 - 1) / 12)
    assert relative_step_change(series).item() == pytest.approx(1 / math.sqrt((500**2 - 1) / 12))


def test_ar1_process_recovers_its_coefficient() -> None:
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(200_000, 2, generator=generator, dtype=torch.float64)
    series = torch.empty_like(noise)
    series[0] = noise[0]
    phi = torch.tensor([0.9, 0.0], dtype=torch.float64)
    for t in range(1, len(noise)):
        series[t] = phi * series[t - 1] + noise[t]
    torch.testing.assert_close(lag1_autocorrelation(series), phi, atol=0.01, rtol=0)
    # white noise: E|X - Y| / sigma = 2 / sqrt(pi)
    assert relative_step_change(series)[1].item() == pytest.approx(2 / math.sqrt(math.pi), abs=0.01)


def test_flat_unit_is_fully_persistent() -> None:
    series = torch.full((50, 1), 0.7)
    assert lag1_autocorrelation(series).item() == 1.0
    assert relative_step_change(series).item() == 0.0


def test_predicted_half_life() -> None:
    assert predicted_half_life(0.5) == pytest.approx(1.0)
    assert predicted_half_life(0.5**0.1) == pytest.approx(10.0)
    assert predicted_half_life(1.0) == math.inf
    assert predicted_half_life(0.0) == 0.0


def test_verdict_says_so_both_ways() -> None:
    t = torch.arange(400, dtype=torch.float64).unsqueeze(1)
    slow = torch.sin(t / 40)
    fast = torch.tensor([(-1.0) ** k for k in range(400)], dtype=torch.float64).unsqueeze(1)
    forget = torch.full_like(slow, 0.95)
    yes = persistence(hidden=fast, cell=slow, forget_gate=forget)
    assert yes.c_persists and yes.verdict.startswith("C persists")
    no = persistence(hidden=slow, cell=fast, forget_gate=torch.full_like(slow, 0.5))
    assert not no.c_persists and "does NOT show C persisting" in no.verdict
    assert "Raise the forget bias" in no.verdict
    assert no.predicted_half_life_c == pytest.approx(1.0)
