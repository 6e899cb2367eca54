"""lstm_core.analysis.metrics: persistence measures on hand-made series with known answers."""

from __future__ import annotations

import json
import math

import pytest
import torch

from lstm_core.analysis.metrics import (
    MIN_STEPS,
    REGIMES,
    autocorrelation,
    classify,
    lag1_autocorrelation,
    measure_text,
    memory_cap_note,
    memory_text,
    memory_time,
    memory_time_cap,
    persistence,
    predicted_half_life,
    relative_step_change,
    suggested_fix,
)
from lstm_core.model.config import LIMITS, OPENING_PRESET, PRESETS, RunConfig
from lstm_core.model.simulate import simulate


def ar1(phi: float, steps: int, units: int, seed: int = 0) -> torch.Tensor:
    """An AR(1) series s_t = phi * s_{t-1} + noise, started stationary: (steps, units) float64."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(steps, units, generator=generator, dtype=torch.float64)
    series = torch.empty_like(noise)
    series[0] = noise[0] / math.sqrt(1 - phi**2)
    for t in range(1, steps):
        series[t] = phi * series[t - 1] + noise[t]
    return series


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


def test_fft_autocorrelation_equals_the_direct_sum() -> None:
    series = ar1(0.7, 300, 3)
    centred = series - series.mean(dim=0)
    direct = torch.stack([(centred[: 300 - k] * centred[k:]).sum(dim=0) for k in range(20)]) / (
        centred**2
    ).sum(dim=0)
    torch.testing.assert_close(autocorrelation(series, 19), direct)
    torch.testing.assert_close(autocorrelation(series)[1], lag1_autocorrelation(series))


def test_memory_time_of_ar1_is_its_integrated_time() -> None:
    # (1 + phi) / (1 - phi) = 19 for phi = 0.9. Sokal's variance of the estimate is
    # 2 (2M + 1) / T * tau^2 with window M ~ 5 tau = 95: a relative spread of ~6 % per unit at
    # T = 100,000, so the median of 16 units is within ~2 % (5 % allowed).
    times = memory_time(ar1(0.9, 100_000, 16))
    torch.testing.assert_close(
        times.median(), torch.tensor(19.0, dtype=torch.float64), rtol=0.05, atol=0
    )


def test_memory_time_of_white_noise_is_one() -> None:
    noise = torch.randn(20_000, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(
        memory_time(noise).median(), torch.tensor(1.0, dtype=torch.float64), rtol=0.05, atol=0
    )


def test_random_walk_hits_the_cap() -> None:
    steps = 10_000
    walk = torch.randn(steps, 16, generator=torch.Generator().manual_seed(2)).cumsum(dim=0)
    times = memory_time(walk)
    assert memory_time_cap(steps) == steps / 10
    assert times.median().item() == memory_time_cap(steps)
    assert (times <= memory_time_cap(steps)).all()


def test_regimes_on_their_numbers() -> None:
    good = dict(
        steps=1000,
        memory_time_h=5.0,
        memory_time_c=50.0,
        step_change_h=0.8,
        step_change_c=0.1,
        mean_forget=0.98,
        saturated_share=0.2,
    )
    assert classify(**good) == "persists"
    assert classify(**{**good, "steps": MIN_STEPS - 1}) == "too-short"
    assert classify(**{**good, "memory_time_h": memory_time_cap(1000)}) == "too-short"
    default = {**good, "mean_forget": 0.5, "memory_time_c": 2.0, "memory_time_h": 2.1}
    assert classify(**{**default, "step_change_c": 0.8}) == "default-init"
    smooth = {**good, "step_change_h": 0.05, "step_change_c": 0.02}
    assert classify(**smooth) == "smooth-h"
    assert classify(**{**smooth, "saturated_share": 0.9}) == "saturated"
    # A still h has a long memory time; that is no reason to call the run short. Nor is it
    # when the forget gate is PyTorch's default: that names the run first.
    assert classify(**{**smooth, "memory_time_h": memory_time_cap(1000)}) == "smooth-h"
    capped_default = {**default, "memory_time_h": memory_time_cap(1000), "step_change_c": 0.8}
    assert classify(**capped_default) == "default-init"
    assert classify(**{**good, "step_change_c": 0.5}) == "c-not-slower"
    assert classify(**{**good, "memory_time_c": 4.0}) == "c-not-slower"
    # each threshold is a bound, not a margin: exactly 2x and exactly 0.25 still hold
    assert classify(**{**good, "step_change_h": 0.25, "step_change_c": 0.125}) == "persists"


def test_saturated_h_is_detected_on_a_switching_series() -> None:
    # C large and slow (a sign that flips every 100 steps), o nearly constant: h = o * tanh(C)
    # is pinned at +-0.5 and only switches.
    t = torch.arange(2000, dtype=torch.float64).unsqueeze(1)
    cell = 6 * torch.sign(torch.sin(math.pi * (t + 0.5) / 100)) + 0.01 * torch.sin(t)
    hidden = 0.5 * torch.tanh(cell)
    measured = persistence(hidden, cell, torch.full_like(cell, 0.99))
    assert measured.regime == "saturated" and not measured.c_persists
    assert measured.saturated_share == 1.0


def test_each_regime_sentence_is_one_plain_sentence() -> None:
    assert set(REGIMES) == {
        "persists",
        "too-short",
        "default-init",
        "saturated",
        "smooth-h",
        "c-not-slower",
    }
    for sentence in REGIMES.values():
        assert sentence.endswith(".")


def test_fixes_are_settings_changes_that_show_the_claim() -> None:
    assert suggested_fix("persists", PRESETS[OPENING_PRESET]) is None
    short = suggested_fix("too-short", RunConfig(seq_len=10))
    assert short is not None and short.changes == {"seq_len": 100}
    # never past the state cap: 512 units x 8 items leave 1250 steps
    capped = suggested_fix("too-short", RunConfig(hidden_dim=512, batch_size=8, seq_len=1000))
    assert capped is not None and capped.changes == {"seq_len": 1250}
    assert suggested_fix("too-short", RunConfig(seq_len=LIMITS["seq_len"][1])) is None
    default = RunConfig(hidden_dim=64, seq_len=500, forget_bias=0.0, input_scale=0.0)
    fix = suggested_fix("default-init", default)
    assert fix is not None
    assert fix.label == "Use the opening preset's forget_bias 5, input_scale 2 at this size"
    pulse = suggested_fix("smooth-h", default.replace(signal="pulse"))
    assert pulse is not None and pulse.label.endswith("signal randn at this size")
    fixed = default.replace(**fix.changes)
    assert fixed == PRESETS[OPENING_PRESET].replace(hidden_dim=64, seq_len=500)
    measured = _measure(fixed)
    assert measured.regime == "persists"
    # the opening preset itself has nothing left to change
    assert suggested_fix("c-not-slower", fixed) is None


def _measure(config: RunConfig):
    result = simulate(config)
    return persistence(result.h[0, 0], result.c[0, 0], result.gates["f"][0, 0])


@pytest.mark.parametrize(
    ("changes", "regime"),
    [
        ({"forget_bias": 0.0, "input_scale": 0.0}, "default-init"),
        ({"forget_bias": 3.0, "input_scale": 0.0, "hidden_dim": 512}, "smooth-h"),
        ({"seq_len": 10}, "too-short"),
    ],
)
def test_regimes_of_real_runs(changes: dict, regime: str) -> None:
    config = PRESETS[OPENING_PRESET].replace(**{"seq_len": 1000, **changes})
    assert _measure(config).regime == regime


def test_a_still_h_is_named_and_one_fix_shows_the_claim() -> None:
    """No input, a high forget bias, 100 steps: h barely moves. Naming it "too short" would
    suggest a longer run, which only saturates C; the init fix shows the claim at once."""
    config = PRESETS[OPENING_PRESET].replace(
        hidden_dim=512, seq_len=100, forget_bias=5.0, input_scale=0.0
    )
    measured = _measure(config)
    assert measured.regime in ("smooth-h", "saturated"), measured.verdict
    fix = suggested_fix(measured.regime, config)
    assert fix is not None
    assert _measure(config.replace(**fix.changes)).regime == "persists"


@pytest.mark.parametrize("hidden_dim", [8, 64, 512])
@pytest.mark.parametrize(("seq_len", "input_dim"), [(100, 1), (100, 64), (1000, 4)])
def test_opening_preset_persists_across_sizes(
    hidden_dim: int, seq_len: int, input_dim: int
) -> None:
    config = PRESETS[OPENING_PRESET].replace(
        hidden_dim=hidden_dim, seq_len=seq_len, input_dim=input_dim
    )
    measured = _measure(config)
    assert measured.regime == "persists", measured.verdict
    assert measured.c_persists


def test_verdict_says_so_both_ways() -> None:
    t = torch.arange(400, dtype=torch.float64).unsqueeze(1)
    slow = torch.sin(t / 40)
    fast = torch.tensor([(-1.0) ** k for k in range(400)], dtype=torch.float64).unsqueeze(1)
    forget = torch.full_like(slow, 0.95)
    yes = persistence(hidden=fast, cell=slow, forget_gate=forget)
    assert yes.c_persists and yes.verdict.startswith("C persists")
    assert yes.memory_time_c > yes.memory_time_h
    no = persistence(hidden=slow, cell=fast, forget_gate=torch.full_like(slow, 0.5))
    assert not no.c_persists and "does NOT show C persisting" in no.verdict
    assert no.regime == "default-init" and REGIMES["default-init"] in no.verdict
    assert no.predicted_half_life_c == pytest.approx(1.0)


def test_a_memory_time_is_never_below_zero() -> None:
    # A sign flip every step: tau = 1 + 2 rho(1) is about -1 from the first window, whose
    # estimate the window rule accepts; the integrated time of such a series is 0.
    series = torch.tensor([(-1.0) ** t for t in range(40)])
    assert memory_time(series).item() == 0.0


def test_a_run_under_min_steps_measures_no_memory_time() -> None:
    generator = torch.Generator().manual_seed(0)
    hidden, cell = torch.randn(2, MIN_STEPS - 1, 3, generator=generator)
    measured = persistence(hidden, cell, torch.full((MIN_STEPS - 1, 3), 0.5))
    assert measured.regime == "too-short"
    assert math.isnan(measured.memory_time_h) and math.isnan(measured.memory_time_c)
    assert measured.to_dict()["memory_time_c"] is None
    assert "memory time" not in measured.verdict  # it names the step changes only
    longer = persistence(*torch.randn(2, MIN_STEPS, 3, generator=generator), torch.rand(20, 3))
    assert 0 <= longer.memory_time_c <= longer.memory_time_cap


def test_two_steps_are_too_short() -> None:
    two = torch.zeros(2, 3)
    measured = persistence(two, two, two)
    assert measured.regime == "too-short" and not measured.c_persists


def test_too_short_runs_give_json_ready_metrics_and_no_fix_for_a_csv_input() -> None:
    measured = persistence(torch.zeros(2, 3), torch.zeros(2, 3), torch.full((2, 3), 0.9))
    values = measured.to_dict()
    assert measured.regime == "too-short"
    assert values["memory_time_h"] is None and values["step_change_c"] is None
    json.dumps(values, allow_nan=False)  # strict JSON: no NaN
    rows = tuple((0.1 * t, -0.2) for t in range(5))
    csv_config = RunConfig(signal="csv", input_dim=2, seq_len=5, input_values=rows)
    # Its steps are the file's rows: no button can lengthen the run.
    assert suggested_fix("too-short", csv_config) is None
    assert suggested_fix("too-short", RunConfig(seq_len=5)) is not None


def test_metric_texts_mark_the_cap_and_what_cannot_be_measured() -> None:
    assert memory_text(12.34, 50.0) == "12.3"
    assert memory_text(50.0, 50.0) == "≥ 50"
    assert memory_text(float("nan"), 50.0) == "n/a"
    assert memory_text(3.0, float("nan")) == "n/a"
    assert measure_text(0.126) == "0.13" and measure_text(float("nan")) == "n/a"
    assert memory_cap_note(MIN_STEPS - 1, float("nan")).startswith(
        f"A run needs at least {MIN_STEPS} steps"
    )
    assert memory_cap_note(1000, 250.0) == (
        "A run of 1,000 steps measures memory times up to 250 steps; '≥' marks the cap."
    )
