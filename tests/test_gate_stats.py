"""lstm_core.analysis.gate_stats: saturation shares and per-unit means, known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_core.analysis.gate_stats import (
    SATURATION_THRESHOLDS,
    forget_gate_of_bias,
    mean_per_unit,
    saturation_shares,
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


def test_saturation_thresholds_sit_a_tenth_inside_each_gates_range() -> None:
    assert SATURATION_THRESHOLDS == {
        "i": (0.1, 0.9),
        "f": (0.1, 0.9),
        "g": (-0.9, 0.9),
        "o": (0.1, 0.9),
    }


def test_a_forget_bias_gives_its_sigmoid() -> None:
    assert forget_gate_of_bias(0.0) == 0.5
    assert forget_gate_of_bias(5.0) == pytest.approx(1 / (1 + np.exp(-5.0)))  # 0.9933
