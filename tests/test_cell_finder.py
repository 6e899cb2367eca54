"""lstm_core.analysis.cell_finder: a planted unit is found; r is Pearson's r; h scored beside C."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_core.analysis.cell_finder import (
    constant_labels,
    correlations,
    find_cells,
    pearson,
    ranked_units,
    unit_r,
)


def test_pearson_matches_numpy_and_gives_zero_for_a_constant_column() -> None:
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(200, 3, generator=generator)
    states[:, 2] = 1.5
    values = torch.randn(200, generator=generator)
    r = pearson(states, values)
    for k in range(2):
        expected = np.corrcoef(states[:, k].numpy(), values.numpy())[0, 1]
        torch.testing.assert_close(r[k], torch.tensor(expected, dtype=torch.float64))
    assert r[2] == 0.0


def test_the_planted_unit_is_found_for_its_label_with_its_sign() -> None:
    generator = torch.Generator().manual_seed(1)
    steps, hidden = 500, 16
    depth = torch.cumsum(torch.randint(-1, 2, (steps,), generator=generator), 0).float()
    c = torch.randn(steps, hidden, generator=generator)
    c[:, 11] = -0.5 * depth + 0.01 * torch.randn(steps, generator=generator)
    h = torch.tanh(c) * torch.rand(steps, hidden, generator=generator)
    match = find_cells(c, h, {"depth": depth})["depth"]
    assert match.unit == 11
    assert match.r_c < -0.99
    assert abs(match.r_h) < abs(match.r_c)
    assert ranked_units(pearson(c, depth), 1) == [11]


def test_a_label_that_does_not_vary_gets_no_unit() -> None:
    """r is undefined for a constant label: no unit is named for it, rather than unit 0."""
    generator = torch.Generator().manual_seed(2)
    c = torch.randn(50, 4, generator=generator)
    labels = {"never": torch.zeros(50), "ramp": torch.arange(50.0)}
    c[:, 3] = torch.arange(50.0)
    assert set(find_cells(c, c.tanh(), labels)) == {"ramp"}
    assert find_cells(c, c.tanh(), labels)["ramp"].unit == 3
    assert constant_labels(labels) == ["never"]


def test_mismatched_shapes_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="same steps"):
        find_cells(torch.zeros(5, 2), torch.zeros(4, 2), {"x": torch.zeros(5)})


def test_correlations_over_several_labels_at_once_are_each_label_s_own() -> None:
    """Labels of mixed dtypes ranked together give what each gives alone; a label of the wrong
    length is refused by name."""
    generator = torch.Generator().manual_seed(3)
    c = torch.randn(300, 6, generator=generator)
    h = torch.randn(300, 4, generator=generator)
    labels = {
        "count": torch.arange(300) % 7,  # int64
        "flag": (torch.rand(300, generator=generator) > 0.5).float(),
    }
    for name, (r_c, r_h) in correlations(c, h, labels).items():
        torch.testing.assert_close(r_c, pearson(c, labels[name]))
        torch.testing.assert_close(r_h, pearson(h, labels[name]))
    with pytest.raises(ValueError, match="'short'"):
        correlations(c, h, {"short": torch.zeros(299)})


def test_one_units_r_leaves_out_the_steps_without_a_label() -> None:
    states = torch.tensor([1.0, 2.0, 3.0, 100.0])
    label = torch.tensor([2.0, 4.0, 6.0, float("nan")])
    assert unit_r(states, label) == pytest.approx(1.0)
    assert unit_r(-states, label) == pytest.approx(-1.0)
    every_step = torch.tensor([1.0, 1.0, 1.0, 5.0])
    assert unit_r(states, every_step) == pytest.approx(np.corrcoef(states, every_step)[0, 1])
    assert unit_r(torch.ones(4), label) == 0.0  # a flat state follows nothing
    with pytest.raises(ValueError, match=r"both be \(T,\)"):
        unit_r(states, label[:3])
