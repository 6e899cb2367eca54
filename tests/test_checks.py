"""lstm_core.model.checks: a run's non-finite values found where they start."""

from __future__ import annotations

import dataclasses
import math

from lstm_core import RunConfig, simulate
from lstm_core.model.checks import first_nonfinite, is_finite


def _csv_config(value: float, dtype: str = "float32") -> RunConfig:
    rows = tuple((value, -value, 0.5) for _ in range(6))  # 6 steps x 3 features
    return RunConfig(signal="csv", input_dim=3, seq_len=6, input_values=rows, dtype=dtype)


def test_an_ordinary_run_is_finite() -> None:
    result = simulate(RunConfig(seq_len=30))
    assert first_nonfinite(result) is None
    assert is_finite(result)


def test_float32_overflow_of_the_input_is_reported_where_it_starts() -> None:
    # 1e300 is a finite Python float (RunConfig accepts it) but inf in float32.
    result = simulate(_csv_config(1e300))
    found = first_nonfinite(result)
    assert found is not None
    assert (found.tensor, found.index, found.value) == ("x", (0, 0, 0), math.inf)
    assert found.count == 12 and found.total == 18  # +inf and -inf columns, 6 steps each
    message = found.message("float32")
    assert "not finite" in message and "scale it down" in message
    # Inputs are float32 draws whatever the dtype (the dtype sets only the arithmetic).
    assert not is_finite(simulate(_csv_config(1e300, dtype="float64")))
    # Large but representable input saturates the gates: bounded states, nothing to report.
    saturated = simulate(_csv_config(1e30))
    assert is_finite(saturated)
    assert saturated.h.abs().max() <= 1


def test_a_nan_state_is_found_at_its_index() -> None:
    result = simulate(RunConfig(seq_len=20, hidden_dim=4, num_layers=2))
    c = result.c.clone()  # (L, B, T, H)
    c[1, 0, 7, 2] = math.nan
    c[1, 0, 9, 3] = -math.inf
    found = first_nonfinite(dataclasses.replace(result, c=c))
    assert found is not None
    assert (found.tensor, found.index, found.count) == ("c", (1, 0, 7, 2), 2)
    assert math.isnan(found.value)
