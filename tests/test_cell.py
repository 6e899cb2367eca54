"""One cell update from given gates: the two-unit worked example, and bad input."""

from __future__ import annotations

import math

import pytest

from lstm_core.model.cell import WORKED_EXAMPLE, cell_update


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
