"""lstm_core.analysis.memory and figures.memory: half-lives with known answers, numbers against
plain PyTorch, the figures."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from torch import nn

from lstm_core.analysis.memory import (
    HALF_LIFE_HOLD,
    PERTURBATION,
    STATE_NAMES,
    MemoryLab,
    check_lab_size,
    half_life,
    half_life_text,
    half_life_verdict,
    jacobian_norms,
    loop_effect,
    memory_lab,
    perturbation_differences,
    seeded_rnns,
)
from lstm_core.analysis.training import BASELINE_MSE, TrainSpec
from lstm_core.figures.memory import (
    gradient_figure,
    perturbation_figure,
    trailing_mean,
    training_figure,
)
from lstm_core.learned.adding import TrainingResult
from lstm_core.model.config import RunConfig, opening_preset
from lstm_core.model.kernels import native_kernel

SMALL = RunConfig(input_dim=3, hidden_dim=5, seq_len=30, forget_bias=3.0)


@functools.cache
def small_lab() -> MemoryLab:
    return memory_lab(SMALL)


def test_half_life_of_a_geometric_decay_is_known() -> None:
    steps = torch.arange(40, dtype=torch.float64)
    # 0.9^6 = 0.531, 0.9^7 = 0.478: the first step at or below half is 7.
    assert half_life(0.9**steps) == 7
    assert half_life(0.5**steps) == 1
    assert half_life(torch.tensor([2.0, 1.5, 1.0, 0.1])) == 2  # exactly half counts
    assert half_life(torch.tensor([1.0, 0.8, 0.6, 0.9])) is None
    # A dip below half that rises again is not a halving: the curve must stay down
    # (HALF_LIFE_HOLD steps, or to the end of the run) ...
    assert half_life(torch.tensor([1.0, 0.4, 0.9, 0.3, 0.2])) == 3
    assert half_life(torch.tensor([1.0, 0.4, 0.3, 0.96])) is None
    # ... and one late spike after a long stay below half does not undo it.
    spiky = torch.tensor([1.0] + [0.3] * HALF_LIFE_HOLD + [0.9] + [0.3] * 5)
    assert half_life(spiky) == 1
    assert half_life(torch.tensor([1.0])) is None  # one step: nothing to halve in
    assert half_life(torch.tensor([1.0, float("nan"), float("nan")])) is None
    assert half_life_text(None, 200) == "> 200"
    assert half_life_text(1, 200) == "1 step"
    assert half_life_text(7, 200) == "7 steps"


@pytest.mark.parametrize("bad", [torch.zeros(3), torch.tensor([]), torch.ones(2, 2)])
def test_half_life_refuses_what_has_none(bad: torch.Tensor) -> None:
    with pytest.raises(ValueError):
        half_life(bad)


def fixed_forget_lstm(forget: float, hidden: int = 3, features: int = 2) -> nn.LSTM:
    """An LSTM whose gates ignore x and h: f = `forget`, i = o = sigmoid(4); g = tanh(W x)."""
    lstm = nn.LSTM(features, hidden, batch_first=True).double()
    with torch.no_grad():
        for parameter in lstm.parameters():
            parameter.zero_()
        lstm.bias_ih_l0[:hidden] = 4.0  # i
        lstm.bias_ih_l0[hidden : 2 * hidden] = math.log(forget / (1 - forget))  # f
        lstm.bias_ih_l0[3 * hidden :] = 4.0  # o
        lstm.weight_ih_l0[2 * hidden : 3 * hidden] = 0.5  # g reads every feature of x
    return lstm


def test_cell_with_fixed_forget_gate_has_the_known_half_life_and_gradient() -> None:
    config = RunConfig(input_dim=2, hidden_dim=3, seq_len=20)
    gru, rnn = seeded_rnns(config)
    lstm = fixed_forget_lstm(0.9)
    x = torch.randn(1, 20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x[:, 1:] = 0.0  # after t = 0 nothing is written: C_t = 0.9^t C_0 in both runs
    difference = perturbation_differences(lstm, gru, rnn, x)
    ratio = difference["lstm_c"] / difference["lstm_c"][0]
    torch.testing.assert_close(ratio, 0.9 ** torch.arange(20, dtype=torch.float64))
    assert half_life(difference["lstm_c"]) == 7
    # No path through h: dC_T/dC_t = diag(0.9^(T-1-t)), Frobenius norm sqrt(H) 0.9^(T-1-t).
    norms = jacobian_norms(lstm, x)
    expected = math.sqrt(3) * 0.9 ** torch.arange(19, -1, -1, dtype=torch.float64)
    torch.testing.assert_close(norms["c"], expected)


def test_gru_and_rnn_are_what_plain_pytorch_draws() -> None:
    config = RunConfig(input_dim=3, hidden_dim=4, seq_len=6, batch_size=2, num_layers=2, seed=7)
    gru, rnn = seeded_rnns(config)
    for model, kind in ((gru, nn.GRU), (rnn, nn.RNN)):
        torch.manual_seed(7)
        torch.randn(2, 6, 3)
        plain = kind(3, 4, 2, batch_first=True)
        for (name, ours), theirs in zip(
            model.state_dict().items(), plain.state_dict().values(), strict=True
        ):
            torch.testing.assert_close(ours, theirs.double(), rtol=0, atol=0, msg=name)


def test_perturbation_matches_two_whole_sequence_runs_of_plain_pytorch() -> None:
    lab = small_lab()
    torch.manual_seed(SMALL.seed)
    x = torch.randn(1, SMALL.seq_len, SMALL.input_dim).double()
    gru, _ = seeded_rnns(SMALL)
    nudged = x.clone()
    nudged[:, 0] += PERTURBATION
    with native_kernel(), torch.no_grad():
        difference = (gru(nudged)[0] - gru(x)[0])[0].norm(dim=-1)  # (T,)
    torch.testing.assert_close(lab.difference["gru_h"], difference)


def test_jacobian_norms_match_autograd_functional_jacobian() -> None:
    config = RunConfig(input_dim=2, hidden_dim=3, seq_len=5, seed=3)
    _, rnn = seeded_rnns(config)
    x = torch.randn(1, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    norms = jacobian_norms(rnn, x)["h"]
    with native_kernel():
        states = rnn(x)[0][0]  # (T, H) h_t of every step
        for t in range(5):

            def final_from(h_t: torch.Tensor, t: int = t) -> torch.Tensor:
                if t == 4:
                    return h_t
                _, h_final = rnn(x[:, t + 1 :], h_t.view(1, 1, 3))  # the steps after t
                return h_final.reshape(3)

            jacobian = torch.autograd.functional.jacobian(final_from, states[t].detach())
            torch.testing.assert_close(norms[t], jacobian.norm())


def test_lab_is_deterministic_and_reports_every_state() -> None:
    first, second = small_lab(), memory_lab(SMALL)
    assert first.half_life == second.half_life
    for name in STATE_NAMES:
        torch.testing.assert_close(first.difference[name], second.difference[name], rtol=0, atol=0)
        assert first.gradient[name].shape == (SMALL.seq_len,)
    payload = first.to_json()
    assert set(payload["half_life"]) == {"lstm_c", "lstm_h", "gru_h", "rnn_h"}
    assert payload["predicted_half_life_c"] == pytest.approx(
        math.log(0.5) / math.log(first.mean_forget)
    )
    # The empty product at t = T-1 is 1 for every unit.
    assert float(first.forget_product[-1]) == pytest.approx(math.sqrt(SMALL.hidden_dim))


def test_forget_bias_lengthens_the_cell_state_half_life() -> None:
    # Measured with PyTorch's input weights (input_scale 0): forget bias 0 -> C halves in 1
    # step; +3 -> 44 steps (predicted 13).
    config = RunConfig(input_dim=4, hidden_dim=16, seq_len=60, forget_bias=0.0, input_scale=0.0)
    default, raised = memory_lab(config), memory_lab(config.replace(forget_bias=3.0))
    assert default.half_life["lstm_c"] is not None and default.half_life["lstm_c"] <= 3
    raised_c = raised.half_life["lstm_c"]
    assert raised_c is None or raised_c > 20
    assert raised.predicted_half_life_c > 10 > default.predicted_half_life_c


def test_lab_size_cap() -> None:
    with pytest.raises(ValueError, match="Memory lab runs up to"):
        check_lab_size(RunConfig(seq_len=5000, hidden_dim=8))


def test_figures_draw_every_state_on_a_log_axis() -> None:
    lab = small_lab()
    perturbation = perturbation_figure(lab)
    assert perturbation.layout.yaxis.type == "log"
    lines = [trace for trace in perturbation.data if trace.mode == "lines"]
    assert [trace.name.split(" (")[0] for trace in lines] == ["LSTM C", "LSTM h", "GRU h", "RNN h"]
    assert lines[0].line.color == lines[1].line.color != lines[2].line.color
    torch.testing.assert_close(torch.tensor(lines[2].y), lab.difference["gru_h"], rtol=0, atol=0)
    gradients = gradient_figure(lab)
    assert gradients.layout.yaxis.type == "log"
    assert len(gradients.data) == 5  # four states and the forget-gate product
    with pytest.raises(TypeError):
        perturbation_figure("not a lab")  # type: ignore[arg-type]


def test_training_figure_draws_the_baseline_at_its_value_with_a_legend_label() -> None:
    # Annotations on a log axis are placed at 10**y, so the baseline must not rely on one.
    result = TrainingResult(
        spec=TrainSpec(steps=3),
        lstm_state={},
        rnn_state={},
        lstm_losses=(0.2, 0.1, 0.01),
        rnn_losses=(0.2, 0.18, 0.17),
        lstm_mse=0.01,
        rnn_mse=0.17,
        seconds=1.0,
    )
    figure = training_figure(result)
    assert figure.layout.yaxis.type == "log"
    assert not figure.layout.annotations and not figure.layout.shapes
    baseline = figure.data[-1]
    assert list(baseline.y) == [BASELINE_MSE, BASELINE_MSE]
    assert list(baseline.x) == [1, 3]
    assert baseline.name.startswith("0.167")
    shown = [trace for trace in figure.data if trace.showlegend is not False]
    assert [trace.name for trace in shown[:2]] == ["LSTM: test MSE 0.0100", "RNN: test MSE 0.1700"]
    # Each step faint, and bold the mean of the last LOSS_WINDOW steps (all three here).
    np.testing.assert_allclose(figure.data[0].y, [0.2, 0.1, 0.01])
    np.testing.assert_allclose(shown[0].y, [0.2, 0.15, 0.31 / 3])


def test_trailing_mean_has_known_answers() -> None:
    np.testing.assert_allclose(trailing_mean([1.0, 2.0, 3.0, 4.0], 2), [1.0, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(trailing_mean([5.0, 1.0], 1), [5.0, 1.0])
    np.testing.assert_allclose(trailing_mean([2.0, 4.0], 10), [2.0, 3.0])
    with pytest.raises(ValueError, match="window must be at least 1"):
        trailing_mean([1.0], 0)


def test_the_opening_run_keeps_the_perturbation_in_c_and_lets_h_halve() -> None:
    # The page's claim on the run it opens with: C keeps at least half of the perturbation
    # through the run, while h's spiky difference halves early and stays down.
    lab = memory_lab(opening_preset(RunConfig(input_dim=4, hidden_dim=8, seq_len=100)))
    assert lab.half_life["lstm_c"] is None
    h_life = lab.half_life["lstm_h"]
    assert h_life is not None and h_life < 100 // 2


def lab_with(
    half_lives: dict[str, int | None], steps: int = 50, mean_forget: float = 0.9
) -> MemoryLab:
    """A MemoryLab holding only the given half-lives (what the verdicts read)."""
    empty = {name: torch.zeros(steps) for name in STATE_NAMES}
    return MemoryLab(
        config=RunConfig(seq_len=steps),
        mean_forget=mean_forget,
        predicted_half_life_c=math.log(0.5) / math.log(mean_forget),  # 6.58 steps at 0.9
        difference=empty,
        half_life=half_lives,
        gradient=empty,
        forget_product=torch.ones(steps),
    )


@pytest.mark.parametrize(
    ("c", "h", "gru", "rnn", "kind", "says"),
    [
        (30, 3, 10, 2, "success", "C keeps the perturbation longest: half-life 30 steps"),
        (None, 3, 10, 2, "success", "half-life > 50 against 3 steps"),
        (None, 3, None, 2, "info", "neither the LSTM's C nor the GRU h has halved"),
        (2, 1, 1, 1, "warning", "does not remember the first input for long (half-life 2"),
        (
            12,
            3,
            20,
            2,
            "warning",
            "C is not the longest memory: its half-life is 12 steps, the GRU h's 20",
        ),
        (12, 3, 2, None, "warning", "the RNN h's > 50"),
        (12, 20, 3, 2, "warning", "the LSTM h's 20 steps"),
    ],
)
def test_the_half_life_verdict_names_what_was_measured(
    c: int | None, h: int | None, gru: int | None, rnn: int | None, kind: str, says: str
) -> None:
    verdict = half_life_verdict(lab_with({"lstm_c": c, "lstm_h": h, "gru_h": gru, "rnn_h": rnn}))
    assert verdict.kind == kind
    assert says in verdict.text


def test_a_run_too_short_to_halve_says_so() -> None:
    verdict = half_life_verdict(lab_with(dict.fromkeys(STATE_NAMES), steps=3))
    assert verdict.kind == "info" and "The run has 3 steps: too short" in verdict.text


@pytest.mark.parametrize(
    ("c", "effect"),
    [(None, "writes it back"), (10, "writes it back"), (7, "changes it little"), (4, "cancel")],
)
def test_the_loop_effect_compares_measured_and_predicted(c: int | None, effect: str) -> None:
    # predicted 6.58 steps: 10 > 1.5 x 6.58, 4 < 6.58 / 1.5
    assert effect in loop_effect(lab_with({"lstm_c": c, "lstm_h": 1, "gru_h": 1, "rnn_h": 1}))


def test_a_c_that_outlasts_a_run_f_alone_would_outlast_is_not_credited_to_the_loop() -> None:
    # f̄ 0.993 predicts 98.7 steps: a C that has not halved in 100 steps says nothing more.
    lab = lab_with(dict.fromkeys(STATE_NAMES), steps=100, mean_forget=0.993)
    assert "this run cannot tell" in loop_effect(lab)
