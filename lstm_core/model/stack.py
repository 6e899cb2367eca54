"""Any nn.LSTM, step by step: cell → layer → stack, both directions, projection, no bias.

The equations, per layer k and direction d (PyTorch's gate order i, f, g, o; the rows of
weight_ih_l{k}{_reverse} and weight_hh_l{k}{_reverse} are stacked in that order, H rows each):

    i_t, f_t, g_t, o_t = (W_ih x_t + b_ih + W_hh h_prev + b_hh).chunk(4, 1), squashed by
                         sigmoid, sigmoid, tanh, sigmoid
    C_t = f_t ⊙ C_prev + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(C_t)                  without a projection (h is H wide)
    h_t = W_hr (o_t ⊙ tanh(C_t))           with proj_size P > 0 (h is P wide, C stays H wide)

The forward direction reads t = 0..T-1 (h_prev, C_prev from step t-1); the reverse direction
reads the sequence backwards (from step t+1). Layer 0 reads x_t; layer k+1 reads both
directions' h_t concatenated, forward first: (B, T, D·P) (D·H without a projection).

Shapes, L layers, D directions (1 or 2), B batch items, T steps, I input features, H hidden
units, P = proj_size or H: h (L, D, B, T, P); C and every gate (L, D, B, T, H). nn.LSTM's
h_n / c_n are (L·D, B, ·) with slot k·D + d; `StackStates.h[k, d]` is that slot's trajectory.

The comparison with nn.LSTM is the one `lstm_core.model.simulate` makes (its long comment):
nn.LSTM's h at every step from one call per layer; nn.LSTM's C at every step from one-step
calls started from nn.LSTM's h_prev and the hand-written C_prev; the hand-written cell reads
nn.LSTM's h_prev each step, so its error is that of the equations, not of a drifting run.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lstm_core.model.kernels import default_kernel, native_kernel, threads_for
from lstm_core.model.simulate import GATE_NAMES, ROW_BLOCK


@dataclass(frozen=True)
class DirectionWeights:
    """One direction of one layer: weight_ih (4H, I_k), weight_hh (4H, P), biases (4H,) or
    None, weight_hr (P, H) or None. Detached views of the module's parameters."""

    weight_ih: torch.Tensor
    weight_hh: torch.Tensor
    bias_ih: torch.Tensor | None
    bias_hh: torch.Tensor | None
    weight_hr: torch.Tensor | None

    def flat(self) -> list[torch.Tensor]:
        """In nn.LSTM's _flat_weights order: w_ih, w_hh, [b_ih, b_hh], [w_hr]."""
        tensors = [self.weight_ih, self.weight_hh]
        if self.bias_ih is not None and self.bias_hh is not None:
            tensors += [self.bias_ih, self.bias_hh]
        if self.weight_hr is not None:
            tensors.append(self.weight_hr)
        return tensors


def direction_weights(lstm: nn.LSTM, layer: int, direction: int) -> DirectionWeights:
    """The parameters of `lstm`'s layer `layer`, direction 0 (forward) or 1 (reverse)."""
    suffix = f"_l{layer}" + ("_reverse" if direction else "")

    def get(name: str) -> torch.Tensor | None:
        tensor = getattr(lstm, name + suffix, None)
        return None if tensor is None else tensor.detach()

    weight_ih, weight_hh = get("weight_ih"), get("weight_hh")
    assert weight_ih is not None and weight_hh is not None
    return DirectionWeights(
        weight_ih=weight_ih,
        weight_hh=weight_hh,
        bias_ih=get("bias_ih") if lstm.bias else None,
        bias_hh=get("bias_hh") if lstm.bias else None,
        weight_hr=get("weight_hr") if lstm.proj_size else None,
    )


@dataclass(frozen=True)
class StackStates:
    """Every step of every layer and direction, from nn.LSTM and from the hand-written cell.

    L layers, D directions, B batch items, T steps, H hidden units, P = proj_size or H.
    """

    h: torch.Tensor  # (L, D, B, T, P) nn.LSTM's h, one call per layer
    c: torch.Tensor  # (L, D, B, T, H) nn.LSTM's C, from one-step calls (see the module notes)
    manual_h: torch.Tensor  # (L, D, B, T, P) hand-written h
    manual_c: torch.Tensor  # (L, D, B, T, H) hand-written C (its own recurrence)
    # (L, D, B, T, H) hand-written o ⊙ tanh(C): h itself without a projection
    manual_unprojected_h: torch.Tensor
    gates: dict[str, torch.Tensor]  # "i", "f", "g", "o" -> (L, D, B, T, H), hand-written
    output: torch.Tensor  # (B, T, D·P) nn.LSTM's output: the last layer's h, directions joined
    h_n: torch.Tensor  # (L·D, B, P) nn.LSTM's final h, slot k·D + d (the reverse one at t = 0)
    c_n: torch.Tensor  # (L·D, B, H) nn.LSTM's final C, from the whole-sequence calls
    # max |hand-written - nn.LSTM| over every layer, direction, item, step and unit: "h", "c"
    max_abs_diff: dict[str, float]
    # max |one step at a time - whole-sequence calls| of nn.LSTM: h at every step, and the
    # last C against c_n (the latter includes the hand-written C's drift over the run)
    stepped_vs_whole: float


def cell(
    pre_activations: torch.Tensor,
    cell_prev: torch.Tensor,
    gate_out: torch.Tensor,
    cell_out: torch.Tensor,
    kept: torch.Tensor,
) -> None:
    """One step of the cell from its gate pre-activations W_ih x_t + b_ih + W_hh h_prev + b_hh.

    pre_activations (B, 4H) in the order i, f, g, o; cell_prev (B, H). Writes the gates into
    gate_out (4, B, H) and C_t = f ⊙ C_prev + i ⊙ g into cell_out (B, H); `kept` (B, H) is
    scratch. f ⊙ C_prev and i ⊙ g are rounded separately, then summed (no fused multiply-add).
    """
    i, f, g, o = pre_activations.chunk(4, 1)
    torch.sigmoid(i, out=gate_out[0])
    torch.sigmoid(f, out=gate_out[1])
    torch.tanh(g, out=gate_out[2])
    torch.sigmoid(o, out=gate_out[3])
    torch.mul(gate_out[1], cell_prev, out=kept)
    torch.add(kept, gate_out[0] * gate_out[2], out=cell_out)


def _gate_pre_activations(
    layer_input: torch.Tensor, previous_h: torch.Tensor, weights: DirectionWeights
) -> torch.Tensor:
    """W_ih x_t + b_ih + W_hh h_prev + b_hh at every step: (B, T, 4H).

    layer_input (B, T, I_k), previous_h (B, T, P): the h each step reads. In row blocks, so
    the temporaries stay (ROW_BLOCK, 4H) at most.
    """
    batch, steps, _ = layer_input.shape
    rows = batch * steps
    four_hidden = weights.weight_hh.shape[0]
    out = layer_input.new_empty(rows, four_hidden)  # (B*T, 4H)
    input_rows = layer_input.reshape(rows, -1)
    previous_rows = previous_h.reshape(rows, -1)
    bias = None
    if weights.bias_ih is not None and weights.bias_hh is not None:
        bias = weights.bias_hh + weights.bias_ih  # (4H,)
    for start in range(0, rows, ROW_BLOCK):
        block = slice(start, start + ROW_BLOCK)
        if bias is None:
            torch.mm(previous_rows[block], weights.weight_hh.t(), out=out[block])
        else:
            torch.addmm(bias, previous_rows[block], weights.weight_hh.t(), out=out[block])
        out[block].addmm_(input_rows[block], weights.weight_ih.t())
    return out.view(batch, steps, four_hidden)


def layer(
    layer_input: torch.Tensor,
    previous_h: torch.Tensor,
    initial_c: torch.Tensor,
    weights: DirectionWeights,
    reverse: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One direction of one layer, every step, each step reading the given h_prev.

    layer_input (B, T, I_k); previous_h (B, T, P): the h_prev of step t (from t-1 forward,
    t+1 reverse); initial_c (B, H): C before the first step read. Returns h (B, T, P),
    C (B, T, H), o ⊙ tanh(C) (B, T, H) and the gates (4, B, T, H) in the order i, f, g, o.
    """
    pre = _gate_pre_activations(layer_input, previous_h, weights)  # (B, T, 4H)
    batch, steps, four_hidden = pre.shape
    hidden = four_hidden // 4
    gates = pre.new_empty(4, batch, steps, hidden)  # (4, B, T, H)
    cell_states = pre.new_empty(batch, steps, hidden)  # (B, T, H)
    kept = pre.new_empty(batch, hidden)
    cell_prev = initial_c
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:  # the one sequential part: C_t from C_prev
        cell(pre[:, t], cell_prev, gates[:, :, t], cell_states[:, t], kept)
        cell_prev = cell_states[:, t]
    unprojected = torch.tanh(cell_states).mul_(gates[3])  # (B, T, H) o ⊙ tanh(C)
    if weights.weight_hr is None:
        return unprojected, cell_states, unprojected, gates
    projected = torch.matmul(unprojected, weights.weight_hr.t())  # (B, T, P)
    return projected, cell_states, unprojected, gates


def _previous(states: torch.Tensor, initial: torch.Tensor, reverse: bool) -> torch.Tensor:
    """(B, T, W) -> the state each step reads: from t-1 (t+1 reverse), `initial` (B, W) first."""
    first = initial.unsqueeze(1)
    if reverse:
        return torch.cat([states[:, 1:], first], dim=1)
    return torch.cat([first, states[:, :-1]], dim=1)


def _nn_lstm(
    layer_input: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor],
    weights: list[DirectionWeights],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One layer (one or both directions) through aten::lstm, as nn.LSTM.forward calls it.

    layer_input (N, S, I_k) batch first; state (h_0 (D, N, P), c_0 (D, N, H)). Returns
    output (N, S, D·P), h_n (D, N, P), c_n (D, N, H). A projection is read from h_0's width.
    """
    flat = [tensor for direction in weights for tensor in direction.flat()]
    has_biases = weights[0].bias_ih is not None
    bidirectional = len(weights) == 2
    # After the weights: has_biases, num_layers, dropout, train, bidirectional, batch_first.
    return torch.lstm(layer_input, state, flat, has_biases, 1, 0.0, False, bidirectional, True)


def _one_step_states(
    layer_input: torch.Tensor,
    previous_h: torch.Tensor,
    previous_c: torch.Tensor,
    weights: DirectionWeights,
) -> tuple[torch.Tensor, torch.Tensor]:
    """nn.LSTM's (h_t, C_t) at every step of one direction from given previous states.

    layer_input (B, T, I_k), previous_h (B, T, P), previous_c (B, T, H). Every step goes
    through aten::lstm at once, as B*T one-step sequences (forward and reverse are the same
    computation for one step). Returns h (B, T, P) and C (B, T, H).
    """
    batch, steps, _ = layer_input.shape
    rows = batch * steps
    inputs = layer_input.reshape(rows, 1, -1)  # (B*T, 1, I_k)
    h_rows = previous_h.reshape(1, rows, -1)
    c_rows = previous_c.reshape(1, rows, -1)
    h_out = previous_h.new_empty(rows, previous_h.shape[-1])
    c_out = previous_c.new_empty(rows, previous_c.shape[-1])
    for start in range(0, rows, ROW_BLOCK):
        block = slice(start, start + ROW_BLOCK)
        _, h_t, c_t = _nn_lstm(inputs[block], (h_rows[:, block], c_rows[:, block]), [weights])
        h_out[block] = h_t[0]
        c_out[block] = c_t[0]
    return h_out.view(batch, steps, -1), c_out.view(batch, steps, -1)


@torch.no_grad()
def run_stack(
    lstm: nn.LSTM,
    x: torch.Tensor,
    initial_state: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> StackStates:
    """`lstm` and the hand-written stack on x (B, T, I), batch first, in `lstm`'s dtype.

    initial_state: (h_0 (L·D, B, P), c_0 (L·D, B, H)) as nn.LSTM takes it, zeros if None.
    nn.LSTM runs on PyTorch's default CPU kernel (oneDNN for float32), what `lstm(x)` gives;
    a projected LSTM on the native kernel, which is what PyTorch falls back to for it anyway
    (saying so in a warning on every call).
    """
    kernel = native_kernel if lstm.proj_size else default_kernel
    layers, directions = lstm.num_layers, 2 if lstm.bidirectional else 1
    hidden = lstm.hidden_size
    width = lstm.proj_size or hidden
    batch, steps, _ = x.shape
    if initial_state is None:
        h_0 = x.new_zeros(layers * directions, batch, width)
        c_0 = x.new_zeros(layers * directions, batch, hidden)
    else:
        h_0, c_0 = initial_state
    h = x.new_empty(layers, directions, batch, steps, width)  # (L, D, B, T, P)
    c = x.new_empty(layers, directions, batch, steps, hidden)  # (L, D, B, T, H)
    manual_h, manual_c = torch.empty_like(h), torch.empty_like(c)
    unprojected = torch.empty_like(c)
    gates = x.new_empty(layers, directions, 4, batch, steps, hidden)  # i, f, g, o
    h_n = x.new_empty(layers * directions, batch, width)
    c_n = x.new_empty(layers * directions, batch, hidden)
    stepped_vs_whole = 0.0
    states = layers * directions * batch * steps * hidden
    with threads_for(states):
        layer_input = x
        for k in range(layers):
            slots = slice(k * directions, (k + 1) * directions)
            weights = [direction_weights(lstm, k, d) for d in range(directions)]
            with kernel():
                output, h_last, c_last = _nn_lstm(layer_input, (h_0[slots], c_0[slots]), weights)
            h_n[slots], c_n[slots] = h_last, c_last
            for d in range(directions):
                reverse = d == 1
                h[k, d] = output[..., d * width : (d + 1) * width]
                previous_h = _previous(h[k, d], h_0[k * directions + d], reverse)
                (manual_h[k, d], manual_c[k, d], unprojected[k, d], gates[k, d]) = layer(
                    layer_input, previous_h, c_0[k * directions + d], weights[d], reverse
                )
                previous_c = _previous(manual_c[k, d], c_0[k * directions + d], reverse)
                with kernel():
                    one_step_h, c[k, d] = _one_step_states(
                        layer_input, previous_h, previous_c, weights[d]
                    )
                last = 0 if reverse else steps - 1
                stepped_vs_whole = max(
                    stepped_vs_whole,
                    (one_step_h - h[k, d]).abs().max().item(),
                    (c[k, d, :, last] - c_last[d]).abs().max().item(),
                )
            # The call's own tensor, as nn.LSTM hands layer k+1 its output (see simulate).
            layer_input = output
    return StackStates(
        h=h,
        c=c,
        manual_h=manual_h,
        manual_c=manual_c,
        manual_unprojected_h=unprojected,
        gates={name: gates[:, :, n] for n, name in enumerate(GATE_NAMES)},
        output=layer_input,
        h_n=h_n,
        c_n=c_n,
        max_abs_diff={
            "h": (manual_h - h).abs().max().item(),
            "c": (manual_c - c).abs().max().item(),
        },
        stepped_vs_whole=stepped_vs_whole,
    )
