"""gate_stats (saturation), downsample's time bins and model.cell's step of a run written out:
known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_core import RunConfig, simulate
from lstm_core.analysis.gate_stats import SATURATION_THRESHOLDS, mean_per_unit, saturation_shares
from lstm_core.figures.downsample import MAX_HEATMAP_COLUMNS, bin_time, heatmap_columns
from lstm_core.model.cell import step_update


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


def test_saturation_thresholds_sit_a_tenth_inside_each_gates_range() -> None:
    assert SATURATION_THRESHOLDS == {
        "i": (0.1, 0.9),
        "f": (0.1, 0.9),
        "g": (-0.9, 0.9),
        "o": (0.1, 0.9),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_update_satisfies_the_update_equations(dtype: str) -> None:
    config = RunConfig(
        input_dim=3, hidden_dim=5, seq_len=12, batch_size=2, num_layers=2, dtype=dtype
    )
    result = simulate(config)
    units = [4, 0, 2]
    for layer, batch, step in ((0, 0, 0), (1, 1, 7), (1, 0, 11)):
        b = step_update(result, layer, batch, step, units)
        expected_prev = (
            torch.zeros(3, dtype=torch.float64)
            if step == 0
            else result.c[layer, batch, step - 1, units].double()
        )
        gates = {n: result.gates[n][layer, batch, step, units] for n in "ifgo"}

        def tensor(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=torch.float64)

        torch.testing.assert_close(tensor(b.c_prev), expected_prev)
        for name in "ifgo":
            torch.testing.assert_close(tensor(getattr(b, name)), gates[name].double())
        # The written-out products are the hand-written cell's states bit for bit ...
        torch.testing.assert_close(
            tensor(b.c),
            result.manual_c[layer, batch, step, units].double(),
            rtol=0,
            atol=0,
        )
        torch.testing.assert_close(
            tensor(b.h),
            result.manual_h[layer, batch, step, units].double(),
            rtol=0,
            atol=0,
        )
        # ... and equal nn.LSTM's to rounding.
        torch.testing.assert_close(tensor(b.c), result.c[layer, batch, step, units].double())
        torch.testing.assert_close(tensor(b.h), result.h[layer, batch, step, units].double())
        np.testing.assert_allclose(np.add(b.kept, b.written), b.c, rtol=1e-6)
        np.testing.assert_allclose(np.multiply(b.o, np.tanh(b.c)), b.h, rtol=1e-6, atol=1e-7)
        assert b.units == tuple(units) and b.step == step
        torch.testing.assert_close(tensor(b.c_lstm), result.c[layer, batch, step, units].double())
        assert b.reference_gap() == max(
            *(abs(x - y) for x, y in zip(b.c, b.c_lstm, strict=True)),
            *(abs(x - y) for x, y in zip(b.h, b.h_lstm, strict=True)),
        )


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
def test_step_update_rejects_bad_views(args: tuple, fragment: str) -> None:
    result = simulate(RunConfig(input_dim=2, hidden_dim=3, seq_len=6))
    with pytest.raises(ValueError, match=fragment):
        step_update(result, *args)
