"""lstm_core.model.stack: the hand-written stack against plain PyTorch: every layer count,
direction, projection, bias."""

from __future__ import annotations

import itertools

import pytest
import torch
from lstm_steps import one_thread, step_plain
from torch import nn

from lstm_core.model.stack import cell, run_stack

pytestmark = pytest.mark.usefixtures(one_thread.__name__)
COMBINATIONS = list(itertools.product((1, 2, 3), (False, True), (0, 2), (True, False)))


def _lstm(layers: int, bidirectional: bool, proj: int, bias: bool, seed: int = 0) -> nn.LSTM:
    torch.manual_seed(seed)
    return nn.LSTM(
        3, 4, layers, bias=bias, batch_first=True, bidirectional=bidirectional, proj_size=proj
    )


@pytest.mark.parametrize(("layers", "bidirectional", "proj", "bias"), COMBINATIONS)
def test_every_step_equals_plain_pytorch(
    layers: int, bidirectional: bool, proj: int, bias: bool
) -> None:
    lstm = _lstm(layers, bidirectional, proj, bias)
    x = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(1))
    states = run_stack(lstm, x)
    h_plain, c_plain = step_plain(lstm, x)
    directions = 2 if bidirectional else 1
    assert states.h.shape == (layers, directions, 2, 6, proj or 4)
    assert states.c.shape == states.gates["f"].shape == (layers, directions, 2, 6, 4)
    # nn.LSTM's default CPU kernel (oneDNN) rounds float32 sigmoid and tanh its own way.
    for ours in (states.h, states.manual_h):
        torch.testing.assert_close(ours, h_plain, rtol=1e-5, atol=1e-5)
    for ours in (states.c, states.manual_c):
        torch.testing.assert_close(ours, c_plain, rtol=1e-5, atol=1e-5)
    output, (h_n, c_n) = lstm(x)
    torch.testing.assert_close(states.output, output.detach())
    torch.testing.assert_close(states.h_n, h_n.detach())
    torch.testing.assert_close(states.c_n, c_n.detach())
    assert states.max_abs_diff["h"] <= 1e-5 and states.max_abs_diff["c"] <= 1e-5


def test_float64_bidirectional_projected_agrees_to_1e_12() -> None:
    lstm = _lstm(3, True, 2, True).double()
    x = torch.randn(2, 40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    states = run_stack(lstm, x)
    h_plain, c_plain = step_plain(lstm, x)
    torch.testing.assert_close(states.manual_h, h_plain, rtol=0, atol=1e-12)
    torch.testing.assert_close(states.manual_c, c_plain, rtol=0, atol=1e-12)
    assert states.max_abs_diff["h"] <= 1e-12 and states.max_abs_diff["c"] <= 1e-12
    assert states.stepped_vs_whole <= 1e-12


def test_an_initial_state_is_read_by_every_layer_and_direction() -> None:
    lstm = _lstm(2, True, 2, True)
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(3, 5, 3, generator=generator)
    state = (torch.randn(4, 3, 2, generator=generator), torch.randn(4, 3, 4, generator=generator))
    states = run_stack(lstm, x, state)
    h_plain, c_plain = step_plain(lstm, x, state)
    torch.testing.assert_close(states.manual_h, h_plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(states.manual_c, c_plain, rtol=1e-5, atol=1e-5)
    output, (h_n, c_n) = lstm(x, state)
    torch.testing.assert_close(states.output, output.detach())
    torch.testing.assert_close(states.h_n, h_n.detach())
    torch.testing.assert_close(states.c_n, c_n.detach())


def test_the_reverse_direction_reads_the_sequence_backwards() -> None:
    lstm = _lstm(1, True, 0, True)
    x = torch.randn(1, 7, 3, generator=torch.Generator().manual_seed(4))
    states = run_stack(lstm, x)
    # The reverse direction's last step (t = 0) has read every input; its first (t = T-1)
    # only x_{T-1}: changing x_0 leaves the reverse h at t = T-1 as it was.
    changed = x.clone()
    changed[0, 0] += 1.0
    other = run_stack(lstm, changed)
    assert torch.equal(other.h[0, 1, 0, -1], states.h[0, 1, 0, -1])
    assert not torch.equal(other.h[0, 1, 0, 0], states.h[0, 1, 0, 0])
    assert not torch.equal(other.h[0, 0, 0, -1], states.h[0, 0, 0, -1])


def test_the_cell_is_the_written_equations() -> None:
    generator = torch.Generator().manual_seed(5)
    pre = torch.randn(2, 12, dtype=torch.float64, generator=generator)  # (B, 4H), H = 3
    c_prev = torch.randn(2, 3, dtype=torch.float64, generator=generator)
    gates, c_out, kept = pre.new_empty(4, 2, 3), pre.new_empty(2, 3), pre.new_empty(2, 3)
    cell(pre, c_prev, gates, c_out, kept)
    i, f, g, o = pre.chunk(4, 1)
    torch.testing.assert_close(
        gates, torch.stack([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()])
    )
    torch.testing.assert_close(c_out, f.sigmoid() * c_prev + i.sigmoid() * g.tanh())
