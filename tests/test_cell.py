"""lstm_core.model.cell: one cell update from given gates (the two-unit worked example), a run's
step written out against the update equations, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_core import RunConfig, simulate
from lstm_core.model.cell import WORKED_EXAMPLE, cell_update, step_update


def test_worked_example() -> None:
    update = cell_update(**WORKED_EXAMPLE)
    assert update.kept == pytest.approx([0.8 * 0.3, 0.2 * 0.0])
    assert update.written == pytest.approx([0.6 * 0.7, 0.4 * -0.1])
    assert update.c == pytest.approx([0.66, -0.04])
    assert update.h == pytest.approx([0.9 * math.tanh(0.66), 0.3 * math.tanh(-0.04)])
    assert update.h == pytest.approx([0.520527, -0.011994], abs=1e-6)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"f": [0.8]}, "same number of units"),
        ({"f": [1.2, 0.2]}, "f must lie in [0, 1]"),
        ({"g": [0.7, -1.5]}, "g must lie in [-1, 1]"),
        ({"c_prev": [float("nan"), 0.0]}, "finite"),
    ],
)
def test_bad_input_is_refused(change: dict[str, list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        cell_update(**{**WORKED_EXAMPLE, **change})


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
