"""gate_stats: saturation shares, time bins, decimation and one step written out, known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_core import RunConfig, simulate
from lstm_core.analysis.gate_stats import (
    MAX_HEATMAP_COLUMNS,
    bin_time,
    decimate,
    heatmap_columns,
    mean_per_unit,
    plain_reading,
    saturation_shares,
    step_breakdown,
)


def test_saturation_shares_known_answer() -> None:
    gate = torch.tensor(
        [
            [0.05, 0.50, 0.95],
            [0.02, 0.95, 0.97],
            [0.50, 0.99, 0.08],
            [0.10, 0.90, 0.99],  # exactly on the thresholds: not saturated
        ]
    )  # (T=4, H=3)
    left, right = saturation_shares(gate, 0.1, 0.9)
    np.testing.assert_array_equal(left, [0.5, 0.0, 0.25])
    np.testing.assert_array_equal(right, [0.0, 0.5, 0.75])


def test_saturation_for_tanh_thresholds() -> None:
    g = np.array([[-0.95], [-0.5], [0.92], [0.99]])
    left, right = saturation_shares(g, -0.9, 0.9)
    assert left.tolist() == [0.25] and right.tolist() == [0.5]


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((0, 2))])
def test_saturation_rejects_bad_shapes(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="must be"):
        saturation_shares(bad, 0.1, 0.9)
    with pytest.raises(ValueError, match="must be"):
        mean_per_unit(bad)


def test_mean_per_unit() -> None:
    np.testing.assert_allclose(mean_per_unit(np.array([[0.2, 1.0], [0.4, 0.0]])), [0.3, 0.5])


def test_bin_time_averages_consecutive_steps() -> None:
    values = np.arange(10, dtype=float)[:, None] * np.array([1.0, -1.0])  # (T=10, H=2)
    bins = bin_time(values, 5)
    np.testing.assert_allclose(
        bins.values, [[0.5, 2.5, 4.5, 6.5, 8.5], [-0.5, -2.5, -4.5, -6.5, -8.5]]
    )
    assert bins.start.tolist() == [0, 2, 4, 6, 8] and bins.stop.tolist() == [2, 4, 6, 8, 10]
    assert bins.binned


def test_bin_time_uneven_bins_cover_every_step_once() -> None:
    values = np.random.default_rng(0).random((1003, 3))
    bins = bin_time(values, 10)
    assert bins.start[0] == 0 and bins.stop[-1] == 1003
    np.testing.assert_array_equal(bins.start[1:], bins.stop[:-1])
    weights = (bins.stop - bins.start)[None, :]
    np.testing.assert_allclose((bins.values * weights).sum(axis=1), values.sum(axis=0))


def test_bin_time_without_binning_is_the_identity() -> None:
    values = np.random.default_rng(1).random((7, 4))
    bins = bin_time(values, 1000)
    np.testing.assert_array_equal(bins.values, values.T)
    assert not bins.binned


def test_heatmap_columns_cap_the_cells() -> None:
    assert heatmap_columns(100, 8) == 100
    assert heatmap_columns(10_000, 8) == MAX_HEATMAP_COLUMNS
    columns = heatmap_columns(10_000, 512)
    assert columns * 512 <= 131_072 and columns >= 50


def test_decimate_keeps_extremes_and_ends() -> None:
    y = np.zeros(10_000)
    y[1234] = 5.0
    y[8765] = -3.0
    x, kept = decimate(y, 100)
    assert len(x) <= 102
    assert x[0] == 0 and x[-1] == 9_999
    assert 1234 in x and 8765 in x
    np.testing.assert_array_equal(kept, y[x])
    assert np.all(np.diff(x) > 0)
    short_x, short_y = decimate(np.arange(5.0), 100)
    assert short_x.tolist() == [0, 1, 2, 3, 4] and short_y.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_breakdown_satisfies_the_update_equations(dtype: str) -> None:
    config = RunConfig(
        input_dim=3, hidden_dim=5, seq_len=12, batch_size=2, num_layers=2, dtype=dtype
    )
    result = simulate(config)
    units = [4, 0, 2]
    for layer, batch, step in ((0, 0, 0), (1, 1, 7), (1, 0, 11)):
        b = step_breakdown(result, layer, batch, step, units)
        expected_prev = (
            torch.zeros(3, dtype=torch.float64)
            if step == 0
            else result.c[layer, batch, step - 1, units].double()
        )
        gates = {n: result.gates[n][layer, batch, step, units] for n in "ifgo"}
        torch.testing.assert_close(torch.from_numpy(b.c_prev), expected_prev)
        for name in "ifgo":
            torch.testing.assert_close(torch.from_numpy(getattr(b, name)), gates[name].double())
        # The written-out products are the hand-written cell's states bit for bit ...
        torch.testing.assert_close(
            torch.from_numpy(b.c),
            result.manual_c[layer, batch, step, units].double(),
            rtol=0,
            atol=0,
        )
        torch.testing.assert_close(
            torch.from_numpy(b.h),
            result.manual_h[layer, batch, step, units].double(),
            rtol=0,
            atol=0,
        )
        # ... and equal nn.LSTM's to rounding.
        torch.testing.assert_close(
            torch.from_numpy(b.c), result.c[layer, batch, step, units].double()
        )
        torch.testing.assert_close(
            torch.from_numpy(b.h), result.h[layer, batch, step, units].double()
        )
        np.testing.assert_allclose(b.kept + b.written, b.c, rtol=1e-6)
        np.testing.assert_allclose(b.o * np.tanh(b.c), b.h, rtol=1e-6, atol=1e-7)
        assert b.units == tuple(units) and b.step == step


@pytest.mark.parametrize(
    "args, fragment",
    [
        ((1, 0, 0, [0]), "layer must be in"),
        ((0, 1, 0, [0]), "batch item must be in"),
        ((0, 0, 6, [0]), "step must be in"),
        ((0, 0, 0, []), "at least one unit"),
        ((0, 0, 0, [3]), "units must be in"),
    ],
)
def test_step_breakdown_rejects_bad_views(args: tuple, fragment: str) -> None:
    result = simulate(RunConfig(input_dim=2, hidden_dim=3, seq_len=6))
    with pytest.raises(ValueError, match=fragment):
        step_breakdown(result, *args)


def test_plain_reading_names_what_happened() -> None:
    # The worked example's unit 0: f 0.8 of C 0.3, writes 0.6 * 0.7, shows 90 % of tanh(0.66).
    text = plain_reading(0.3, 0.8, 0.6, 0.7, 0.9, 0.66, 0.9 * np.tanh(0.66))
    assert "forgets 20%" in text and "writes +0.42" in text and "shows 90%" in text
    assert "keeps almost all" in plain_reading(1.0, 0.99, 0.0, 0.5, 0.0, 0.99, 0.0)
    assert "writes almost nothing" in plain_reading(1.0, 0.99, 0.0, 0.5, 0.0, 0.99, 0.0)
    assert "keeps C_t = 0.99 hidden" in plain_reading(1.0, 0.99, 0.0, 0.5, 0.0, 0.99, 0.0)
    assert "wipes almost all" in plain_reading(1.0, 0.05, 0.5, 0.5, 0.5, 0.3, 0.1)
