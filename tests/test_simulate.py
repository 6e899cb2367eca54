"""lstm_core.model.simulate: the core against plain PyTorch: the canonical snippet, the twin,
shapes, determinism."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lstm_core import PRESETS, RunConfig, build_model, simulate
from lstm_core.model.simulate import result_nbytes


def plain_pytorch(config: RunConfig) -> tuple[torch.Tensor, nn.LSTM]:
    """What a user writes: the global seed, randn, nn.LSTM (its own default init), then the
    forget bias and the input scale (layer 0's weight_ih times s * sqrt(H / I))."""
    torch.manual_seed(config.seed)
    x = torch.randn(config.batch_size, config.seq_len, config.input_dim)
    lstm = nn.LSTM(config.input_dim, config.hidden_dim, config.num_layers, batch_first=True)
    with torch.no_grad():
        for k in range(config.num_layers):
            getattr(lstm, f"bias_ih_l{k}")[config.hidden_dim : 2 * config.hidden_dim] += (
                config.forget_bias
            )
        if config.input_scale > 0:
            lstm.weight_ih_l0.mul_(
                config.input_scale * math.sqrt(config.hidden_dim / config.input_dim)
            )
    return x, lstm


def step_plain(lstm: nn.LSTM, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Step a plain nn.LSTM (default backend) and stack (L, B, T, H) h and c."""
    state = None
    hs, cs = [], []
    with torch.no_grad():
        for t in range(x.shape[1]):
            _, state = lstm(x[:, t : t + 1], state)
            hs.append(state[0])
            cs.append(state[1])
    return torch.stack(hs, dim=2), torch.stack(cs, dim=2)


def test_canonical_snippet_printed_numbers_match() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 4, 3)
    lstm = nn.LSTM(3, 2, batch_first=True)
    output, (h_n, c_n) = lstm(x)
    result = simulate(PRESETS["Canonical example"])
    assert torch.equal(result.x, x)
    for ours, theirs in ((result.output, output), (result.h_n, h_n), (result.c_n, c_n)):
        torch.testing.assert_close(ours, theirs.detach())
        # What the user sees printed is character for character the same.
        assert str(ours) == str(theirs.detach())
    torch.testing.assert_close(result.h[-1], output.detach())


@pytest.mark.parametrize(
    "config",
    [
        RunConfig(input_dim=3, hidden_dim=2, seq_len=4, forget_bias=0.0),
        RunConfig(input_dim=5, hidden_dim=8, seq_len=30, batch_size=3, seed=7, forget_bias=1.0),
        RunConfig(input_dim=2, hidden_dim=16, seq_len=50, num_layers=3, batch_size=2, seed=123),
        RunConfig(input_dim=16, hidden_dim=64, seq_len=200, seed=42, forget_bias=0.0),
    ],
    ids=["canonical", "batch3", "layers3", "h64"],
)
def test_weights_and_states_match_plain_pytorch(config: RunConfig) -> None:
    x_plain, lstm_plain = plain_pytorch(config)
    result = simulate(config)
    assert torch.equal(result.x, x_plain)
    for name, parameter in lstm_plain.state_dict().items():
        assert torch.equal(result.parameters[name], parameter), name
    h_plain, c_plain = step_plain(lstm_plain, x_plain)
    # The plain module runs on PyTorch's default (oneDNN) kernel: same maths, other rounding.
    torch.testing.assert_close(result.h, h_plain)
    torch.testing.assert_close(result.c, c_plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(result.manual_h, h_plain)
    torch.testing.assert_close(result.manual_c, c_plain, rtol=1e-5, atol=1e-5)


# float32: nn.LSTM runs on oneDNN, whose sigmoid and tanh are a few ulps from the written-out
# ones (relative 2e-7 seen in a C of 10); float64: the native kernel, same arithmetic.
@pytest.mark.parametrize("dtype, bound", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize(
    "sizes",
    [
        {"input_dim": 3, "hidden_dim": 2, "seq_len": 4},
        {"input_dim": 8, "hidden_dim": 32, "seq_len": 200, "batch_size": 4, "num_layers": 2},
        {"input_dim": 4, "hidden_dim": 8, "seq_len": 300, "num_layers": 4, "seed": 99},
    ],
)
def test_manual_cell_matches_nn_lstm_at_every_step(
    dtype: str, bound: float, sizes: dict[str, int]
) -> None:
    result = simulate(RunConfig(dtype=dtype, **sizes))
    assert result.h.dtype == getattr(torch, dtype)
    torch.testing.assert_close(result.manual_h, result.h, rtol=bound / 10, atol=bound)
    torch.testing.assert_close(result.manual_c, result.c, rtol=bound / 10, atol=bound)
    assert result.max_abs_diff["h"] <= bound
    assert result.max_abs_diff["c"] <= bound


def test_stepped_reference_equals_whole_sequence_call() -> None:
    config = RunConfig(input_dim=6, hidden_dim=12, seq_len=80, batch_size=3, num_layers=2)
    result = simulate(config)
    x, lstm = build_model(config)
    with torch.no_grad():
        output, (h_n, c_n) = lstm(x)
    torch.testing.assert_close(result.h[-1], output)
    torch.testing.assert_close(result.h[:, :, -1], h_n)
    torch.testing.assert_close(result.c[:, :, -1], c_n)
    assert result.stepped_vs_whole < 1e-5
    # nn.LSTM hands out its last layer's last step twice, and they are the same numbers.
    assert result.last_step_gap == (output[:, -1] - h_n[-1]).abs().max().item() == 0.0


def test_gates_satisfy_the_update_equations() -> None:
    result = simulate(RunConfig(hidden_dim=6, seq_len=40, num_layers=2, dtype="float64"))
    i, f, g, o = (result.gates[name] for name in "ifgo")
    c_prev = torch.cat([torch.zeros_like(result.c[:, :, :1]), result.c[:, :, :-1]], dim=2)
    torch.testing.assert_close(result.c, f * c_prev + i * g)
    torch.testing.assert_close(result.h, o * torch.tanh(result.c))
    assert ((i >= 0) & (i <= 1) & (f >= 0) & (f <= 1) & (o >= 0) & (o <= 1)).all()
    assert (g.abs() <= 1).all()


def test_shapes_example() -> None:
    result = simulate(PRESETS["Shapes example"])
    assert tuple(result.x.shape) == (2, 4, 5)
    assert tuple(result.output.shape) == (2, 4, 8)
    assert tuple(result.h_n.shape) == (1, 2, 8)
    assert tuple(result.c_n.shape) == (1, 2, 8)
    assert tuple(result.h.shape) == (1, 2, 4, 8)
    assert {name: tuple(t.shape) for name, t in result.parameters.items()} == {
        "weight_ih_l0": (32, 5),
        "weight_hh_l0": (32, 8),
        "bias_ih_l0": (32,),
        "bias_hh_l0": (32,),
    }


def test_deterministic_and_leaves_global_rng_alone() -> None:
    config = RunConfig(hidden_dim=5, seq_len=20, batch_size=2, seed=3)
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    first = simulate(config)
    assert torch.equal(torch.get_rng_state(), before)
    torch.rand(10)  # move the global RNG: the run must not care
    second = simulate(config)
    for name in ("x", "h", "c", "manual_h", "manual_c"):
        assert torch.equal(getattr(first, name), getattr(second, name)), name
    assert not torch.equal(simulate(config.replace(seed=4)).x, first.x)


def test_forget_bias_is_added_to_the_forget_slice_only() -> None:
    base = simulate(RunConfig(hidden_dim=4, seq_len=5, forget_bias=0.0)).parameters
    raised = simulate(RunConfig(hidden_dim=4, seq_len=5, forget_bias=3.0)).parameters
    delta = raised["bias_ih_l0"] - base["bias_ih_l0"]
    torch.testing.assert_close(delta[4:8], torch.full((4,), 3.0))
    assert torch.equal(delta[:4], torch.zeros(4)) and torch.equal(delta[8:], torch.zeros(8))
    assert torch.equal(raised["bias_hh_l0"], base["bias_hh_l0"])


def test_chrono_initialisation_ranges() -> None:
    t_max = 50.0
    params = simulate(RunConfig(hidden_dim=64, seq_len=5, chrono_t_max=t_max)).parameters
    forget = params["bias_ih_l0"][64:128] + params["bias_hh_l0"][64:128]
    ingate = params["bias_ih_l0"][:64] + params["bias_hh_l0"][:64]
    assert (forget >= 0).all() and (forget <= torch.log(torch.tensor(t_max - 1))).all()
    torch.testing.assert_close(ingate, -forget)


@pytest.mark.parametrize("signal", ["sine", "step", "pulse"])
def test_signals_keep_the_weights_of_the_seed(signal: str) -> None:
    randn = simulate(RunConfig(hidden_dim=4, seq_len=40))
    other = simulate(RunConfig(hidden_dim=4, seq_len=40, signal=signal))
    for name, parameter in randn.parameters.items():
        assert torch.equal(other.parameters[name], parameter)
    assert not torch.equal(other.x, randn.x)
    assert other.max_abs_diff["c"] <= 1e-6


@pytest.mark.parametrize(
    "config",
    [RunConfig(), RunConfig(num_layers=3, batch_size=2, seq_len=30, dtype="float64")],
)
def test_result_nbytes_is_known_before_the_run(config: RunConfig) -> None:
    result = simulate(config)
    tensors = [result.x, result.h, result.c, result.manual_h, result.manual_c, result.h_n]
    tensors += [result.c_n, *result.gates.values(), *result.parameters.values()]
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}
    assert result_nbytes(config) == sum(storages.values())


def test_manual_trajectory_from_given_states_continues_where_a_window_ended() -> None:
    """Read in two windows, the second starting from the first's final states, the written-out
    equations give the whole read's h and C, and match nn.LSTM started from those states."""
    from lstm_core.model.simulate import manual_trajectory, reference_trajectory

    generator = torch.Generator().manual_seed(4)
    lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    x = torch.randn(2, 9, 3, generator=generator)  # (B, T, I)
    with torch.no_grad():
        whole_h, whole_c, _ = manual_trajectory(lstm, x)  # (L, B, T, H)
        first_h, first_c, _ = manual_trajectory(lstm, x[:, :4])
        after_first = (first_h[:, :, -1], first_c[:, :, -1])  # (L, B, H) each
        second_h, second_c, _ = manual_trajectory(lstm, x[:, 4:], initial=after_first)
        reference_h, _ = reference_trajectory(lstm, x[:, 4:], after_first)
        output, (_, c_n) = lstm(x[:, 4:], after_first)
    torch.testing.assert_close(torch.cat([first_h, second_h], dim=2), whole_h)
    torch.testing.assert_close(torch.cat([first_c, second_c], dim=2), whole_c)
    torch.testing.assert_close(second_h[-1], output)
    torch.testing.assert_close(reference_h[-1], output)
    torch.testing.assert_close(second_c[:, :, -1], c_n)
