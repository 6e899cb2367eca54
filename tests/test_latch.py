"""lstm_core.learned.latch and its figure: the hand-set latch holds the marked value in C
exactly and shows nothing in h until the query; the exposure of a trained recall model."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
import torch

from lstm_core.figures.latch import latch_figure
from lstm_core.learned.latch import (
    LatchComparison,
    _probe_r2,
    latch_comparison,
    latch_lstm,
    latch_states,
    measure_exposure,
)
from lstm_core.learned.recall import MARK, QUERY, VALUE, recall_sequences
from lstm_core.learned.tasks import task_spec, train_task


def _sequence(dtype: torch.dtype) -> torch.Tensor:
    x = torch.zeros(1, 12, 3, dtype=dtype)
    x[0, :, VALUE] = torch.linspace(-0.9, 0.8, 12, dtype=dtype)
    x[0, 2, MARK] = 1.0
    x[0, 9, QUERY] = 1.0
    return x


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_latch_holds_the_marked_value_flat_and_h_stays_zero_until_the_query(
    dtype: torch.dtype,
) -> None:
    x = _sequence(dtype)
    h, c = latch_states(x)  # through nn.LSTM with the hand-set weights
    stored = torch.tanh(x[0, 2, VALUE])
    exact = {"rtol": 0.0, "atol": 0.0}
    torch.testing.assert_close(c[0, :2], torch.zeros(2, dtype=dtype), **exact)
    torch.testing.assert_close(c[0, 2:], stored.expand(10), **exact)
    torch.testing.assert_close(h[0, :9], torch.zeros(9, dtype=dtype), **exact)
    torch.testing.assert_close(h[0, 9], torch.tanh(stored))
    torch.testing.assert_close(h[0, 10:], torch.zeros(2, dtype=dtype), **exact)


def test_the_latch_gates_are_exactly_f_one_i_mark_o_query() -> None:
    before = torch.get_rng_state()
    lstm = latch_lstm()
    assert torch.equal(torch.get_rng_state(), before)  # no weights drawn from the global RNG
    x = _sequence(torch.float32)[0]  # (T, 3)
    pre = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + lstm.bias_hh_l0  # (T, 4): i, f, g, o
    gates = torch.sigmoid(pre)
    torch.testing.assert_close(gates[:, 0], x[:, MARK], rtol=0, atol=0)
    torch.testing.assert_close(gates[:, 1], torch.ones(12), rtol=0, atol=0)
    torch.testing.assert_close(gates[:, 3], x[:, QUERY], rtol=0, atol=0)
    torch.testing.assert_close(torch.tanh(pre[:, 2]), torch.tanh(x[:, VALUE]))


def test_on_recall_sequences_the_latch_keeps_every_stored_value_across_the_gap() -> None:
    x, _, steps = recall_sequences(64, 40, torch.Generator().manual_seed(2))
    h, c = latch_states(x)
    for row in range(64):
        mark, query = int(steps[row, 0]), int(steps[row, 1])
        stored = torch.tanh(x[row, mark, VALUE])
        torch.testing.assert_close(c[row, mark:], stored.expand(40 - mark), rtol=0, atol=0)
        assert bool((h[row, :query] == 0).all())


def test_the_linear_probe_scores_a_linear_quantity_one_and_noise_about_zero() -> None:
    generator = torch.Generator().manual_seed(3)
    states = torch.randn(400, 4, generator=generator)
    fit_rows = torch.arange(400) < 200
    linear = states @ torch.tensor([0.5, -1.0, 0.0, 2.0]) + 0.3
    assert _probe_r2(states, linear, fit_rows) == pytest.approx(1.0, abs=1e-9)
    noise = torch.randn(400, generator=generator)
    assert _probe_r2(states, noise, fit_rows) < 0.1


@pytest.fixture(scope="module")
def recall_state() -> dict[str, torch.Tensor]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        spec = task_spec("recall", hidden_dim=6, steps=40, batch_size=16, seq_len=16)
        return train_task(spec).state
    finally:
        torch.set_num_threads(threads)


def test_exposure_reports_the_trained_unit_beside_the_exact_latch(
    recall_state: dict[str, torch.Tensor],
) -> None:
    exposure = measure_exposure(recall_state, seed=0, seq_len=16)
    assert 0 <= exposure.unit < 6 and 0 <= exposure.best_h_unit < 6
    assert abs(exposure.best_r_h) >= abs(exposure.r_h)
    assert exposure.latch_max_abs_h == 0.0
    assert exposure.latch_r_c > 0.95  # tanh of the value: monotone, nearly linear on [-1, 1]
    assert exposure.probe_r2_c <= 1.0 and exposure.probe_r2_h <= 1.0
    assert set(exposure.to_dict()) >= {"unit", "r_c", "r_h", "probe_r2_h"}


def test_the_latch_figure_draws_both_models_and_refuses_bad_input(
    recall_state: dict[str, torch.Tensor],
) -> None:
    comparison = latch_comparison(recall_state, seed=0, seq_len=16, sequence=3)
    assert comparison.mark < comparison.query
    torch.testing.assert_close(
        comparison.latch_h[: comparison.query], torch.zeros(comparison.query), rtol=0, atol=0
    )
    figure = latch_figure(comparison)
    assert isinstance(figure, go.Figure)
    names = [trace.name for trace in figure.data]
    assert len(names) == 4 and f"C_t (unit {comparison.unit})" in names
    # One legend for both rows: the latch's lines and the trained unit's differ in colour.
    colors = {trace.name: trace.line.color for trace in figure.data}
    assert colors["C_t (latch)"] != colors[f"C_t (unit {comparison.unit})"]
    with pytest.raises(TypeError, match="LatchComparison"):
        latch_figure("not a comparison")  # type: ignore[arg-type]
    fields = dict(comparison.__dict__)
    with pytest.raises(ValueError, match="mark < query"):
        latch_figure(LatchComparison(**{**fields, "query": comparison.mark}))
    with pytest.raises(ValueError, match="shape"):
        latch_figure(LatchComparison(**{**fields, "latch_h": torch.zeros(3)}))
    with pytest.raises(ValueError, match="sequence must be"):
        latch_comparison(recall_state, seed=0, seq_len=16, sequence=10_000)
