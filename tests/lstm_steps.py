"""Plain PyTorch, one step at a time, for any nn.LSTM: what the hand-written stack must equal.

Each layer and direction becomes its own one-layer unidirectional nn.LSTM with the same
weights (and projection), stepped one call per step; the reverse one steps through the
sequence backwards. Layer k+1 reads both directions' h concatenated, as inside nn.LSTM.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny LSTMs on one torch thread: each call would wait for a second one on a busy box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def direction_module(lstm: nn.LSTM, layer: int, direction: int) -> nn.LSTM:
    """Layer `layer`, direction `direction` of `lstm` as a one-layer nn.LSTM (batch first)."""
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    state = {
        name.replace(suffix, "_l0"): tensor.detach().clone()
        for name, tensor in lstm.state_dict().items()
        if name.endswith(suffix)
    }
    features = state["weight_ih_l0"].shape[1]
    single = nn.LSTM(
        features, lstm.hidden_size, 1, bias=lstm.bias, batch_first=True, proj_size=lstm.proj_size
    ).to(lstm.weight_ih_l0.dtype)
    single.load_state_dict(state)
    return single


@torch.no_grad()
def step_plain(
    lstm: nn.LSTM,
    x: torch.Tensor,
    initial_state: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """h (L, D, B, T, P) and C (L, D, B, T, H) of `lstm` on x (B, T, I), step by step."""
    directions = 2 if lstm.bidirectional else 1
    batch, steps, _ = x.shape
    width = lstm.proj_size or lstm.hidden_size
    hs = x.new_empty(lstm.num_layers, directions, batch, steps, width)
    cs = x.new_empty(lstm.num_layers, directions, batch, steps, lstm.hidden_size)
    layer_input = x
    for k in range(lstm.num_layers):
        for d in range(directions):
            single = direction_module(lstm, k, d)
            state = None
            if initial_state is not None:
                slot = k * directions + d
                state = (initial_state[0][slot : slot + 1], initial_state[1][slot : slot + 1])
            order = range(steps - 1, -1, -1) if d else range(steps)
            for t in order:
                _, state = single(layer_input[:, t : t + 1], state)
                hs[k, d, :, t] = state[0][0]
                cs[k, d, :, t] = state[1][0]
        layer_input = torch.cat(list(hs[k]), dim=-1)  # (B, T, D*P)
    return hs, cs
