"""A seeded nn.LSTM, its state at every step, and a hand-written twin with the very same weights.

Equations (PyTorch's gate order i, f, g, o; rows of weight_ih_l{k} / weight_hh_l{k} are
stacked in that order, each block H rows):

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    C_t = f_t * C_{t-1} + i_t * g_t
    h_t = o_t * tanh(C_t)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from lstm_core.model.config import RunConfig
from lstm_core.model.kernels import default_kernel, threads_for
from lstm_core.model.signals import make_input

GATE_NAMES: tuple[str, ...] = ("i", "f", "g", "o")
TORCH_DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class SimulationResult:
    """One run. Every tensor is on the CPU in the config's dtype; treat them as read-only.

    Layouts: L layers, B batch items, T steps, I input features, H units.
    """

    config: RunConfig
    x: torch.Tensor  # (B, T, I) the input sequence
    h: torch.Tensor  # (L, B, T, H) hidden state from nn.LSTM, one whole-sequence call per layer
    # (L, B, T, H) cell state from nn.LSTM, step t from nn.LSTM's h_{t-1} and manual_c's C_{t-1}
    c: torch.Tensor
    manual_h: torch.Tensor  # (L, B, T, H) hidden state from the hand-written cell
    manual_c: torch.Tensor  # (L, B, T, H) cell state from the hand-written cell (its own C)
    gates: dict[str, torch.Tensor]  # "i", "f", "g", "o" -> (L, B, T, H), hand-written cell
    output: torch.Tensor  # (B, T, H) nn.LSTM's output: the last layer's h
    h_n: torch.Tensor  # (L, B, H) nn.LSTM's final hidden state
    c_n: torch.Tensor  # (L, B, H) nn.LSTM's final cell state, from the whole-sequence calls
    parameters: dict[str, torch.Tensor] = field(repr=False)  # nn.LSTM's state_dict
    # max |manual - reference| over every layer, item, step and unit, for "h" and "c"
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    # max |one step at a time - whole-sequence calls|: nn.LSTM's h at every step, and its C at
    # the last step against c_n (the latter includes the hand-written C's drift over the run)
    stepped_vs_whole: float = 0.0

    @property
    def last_step_gap(self) -> float:
        """max |output[:, -1] - h_n[-1]|: the last layer's last step, which both return."""
        return (self.output[:, -1] - self.h_n[-1]).abs().max().item()


def input_weight_factor(config: RunConfig) -> float:
    """What layer 0's drawn weight_ih is multiplied by: s * sqrt(H / I), or 1 when s = 0."""
    if config.input_scale <= 0:
        return 1.0
    return config.input_scale * math.sqrt(config.hidden_dim / config.input_dim)


def result_nbytes(config: RunConfig) -> int:
    """The bytes of tensors `simulate(config)` returns, known before running it."""
    layers, batch, steps = config.num_layers, config.batch_size, config.seq_len
    features, hidden = config.input_dim, config.hidden_dim
    # x; h, c, the twin's h and C, four gates (L, B, T, H) each; h_n and c_n.
    values = batch * steps * features + 8 * layers * batch * steps * hidden
    values += 2 * layers * batch * hidden
    for k in range(layers):  # weight_ih, weight_hh, bias_ih, bias_hh
        values += 4 * hidden * ((features if k == 0 else hidden) + hidden + 2)
    return values * TORCH_DTYPES[config.dtype].itemsize


def build_model(
    config: RunConfig, state_dict: dict[str, torch.Tensor] | None = None
) -> tuple[torch.Tensor, nn.LSTM]:
    """The input x (B, T, I) and the nn.LSTM of a run, both in the config's dtype.

    A private generator seeded with `config.seed` draws, in this order, noise = randn(B, T, I)
    and every parameter U(-1/sqrt(H), 1/sqrt(H)) in the module's parameter order: exactly what
    `torch.manual_seed(seed); x = torch.randn(B, T, I); nn.LSTM(I, H, L, batch_first=True)`
    gives, without touching the global RNG. With input_scale s > 0, layer 0's weight_ih is then
    multiplied by input_weight_factor(config) = s * sqrt(H / I). The draws are float32; float64
    casts them, so the dtype changes only the arithmetic. `state_dict`, if given, replaces the
    drawn weights.
    """
    generator = torch.Generator().manual_seed(config.seed)
    batch, steps, features = config.batch_size, config.seq_len, config.input_dim
    hidden, layers = config.hidden_dim, config.num_layers
    noise = torch.randn(batch, steps, features, generator=generator)  # (B, T, I)
    # Built on the meta device: nn.LSTM's own init would draw from the global RNG.
    lstm = nn.LSTM(features, hidden, layers, batch_first=True, device="meta")
    lstm = lstm.to_empty(device="cpu")
    bound = 1.0 / math.sqrt(hidden)
    with torch.no_grad():
        for parameter in lstm.parameters():
            parameter.uniform_(-bound, bound, generator=generator)
        for k in range(layers):
            bias_ih = getattr(lstm, f"bias_ih_l{k}")  # (4H,) blocks i, f, g, o
            bias_hh = getattr(lstm, f"bias_hh_l{k}")
            if config.chrono_t_max > 0:
                # Tallec & Ollivier 2018: b_f ~ log U(1, T_max - 1), b_i = -b_f.
                uniform = torch.rand(hidden, generator=generator)
                forget = torch.log(1 + uniform * (config.chrono_t_max - 2))
                bias_ih[hidden : 2 * hidden] = forget
                bias_hh[hidden : 2 * hidden] = 0.0
                bias_ih[:hidden] = -forget
                bias_hh[:hidden] = 0.0
            else:
                bias_ih[hidden : 2 * hidden] += config.forget_bias
        if config.input_scale > 0:
            # U(-1/sqrt(H), 1/sqrt(H)) -> U(-s/sqrt(I), s/sqrt(I)): see RunConfig.input_scale.
            lstm.weight_ih_l0.mul_(input_weight_factor(config))
        if state_dict is not None:
            lstm.load_state_dict(state_dict)
    dtype = TORCH_DTYPES[config.dtype]
    x = make_input(config, noise).to(dtype)
    return x, lstm.to(dtype)


# How the two are run and compared. nn.LSTM runs on PyTorch's default CPU kernel (oneDNN for
# float32, the native kernel for float64): what `nn.LSTM(...)(x)` gives a user. It returns h at
# every step but C only at the last, so:
# - h: one whole-sequence call per layer (layer k reads layer k-1's h), every step of every layer.
# - C: nn.LSTM again, on every step at once as a batch of one-step sequences, step t started
#   from nn.LSTM's h_{t-1} and the hand-written cell's C_{t-1} (nn.LSTM exposes no other).
# - The hand-written cell is given nn.LSTM's h_{t-1} at every step (its C is its own
#   recurrence). Left to feed back its own h, two implementations that differ in the last bit
#   of a sigmoid part ways on long runs with a raised forget bias (oneDNN and PyTorch's native
#   kernel end far apart in h: README, Performance), so a free-running comparison would
#   measure that sensitivity, not the equations. Step by step, it measures the equations.
# Only the cell-state recurrence C_t = f_t * C_{t-1} + i_t * g_t is sequential here; the matrix
# products are large GEMMs over many steps at once, which is why a run costs about two
# whole-sequence forwards rather than a matrix-vector product per step per implementation.


# Rows (batch items x steps) per matrix product in the cell and per nn.LSTM call in
# one_step_states: bounds the temporaries of the largest run.
ROW_BLOCK = 2048


def _layer_weights(lstm: nn.LSTM, layer: int) -> list[torch.Tensor]:
    """[weight_ih (4H, I or H), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,)], detached."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [getattr(lstm, f"{name}_l{layer}").detach() for name in names]


def _nn_lstm_layer(
    layer_input: torch.Tensor, state: list[torch.Tensor], weights: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One layer through aten::lstm, as nn.LSTM.forward calls it (torch._VF.lstm) in eval mode.

    layer_input (N, S, I), state [h_0, c_0] (1, N, H) each. Returns output (N, S, H),
    h_n (1, N, H), c_n (1, N, H).
    """
    # After the weights: has_biases, num_layers, dropout, train, bidirectional, batch_first.
    return torch.lstm(layer_input, state, weights, True, 1, 0.0, False, False, True)


def _previous(states: torch.Tensor, first: torch.Tensor | None = None) -> torch.Tensor:
    """(B, T, H) -> the state one step earlier: (B, T, H); before the first step `first`
    (B, H), or zero."""
    before = torch.zeros_like(states[:, :1]) if first is None else first[:, None]
    return torch.cat([before, states[:, :-1]], dim=1)


def _cell_layer(
    layer_input: torch.Tensor,
    previous_h: torch.Tensor,
    weights: list[torch.Tensor],
    hidden_states: torch.Tensor,
    cell_states: torch.Tensor,
    gate_values: torch.Tensor,
    initial_cell: torch.Tensor | None = None,
) -> None:
    """The written-out equations for one layer, every step, from C_0 = `initial_cell` (B, H)
    or zero.

    layer_input (B, T, I) and previous_h (B, T, H), the h_{t-1} each step reads. Fills
    hidden_states, cell_states (B, T, H) and gate_values (4, B, T, H) in the order i, f, g, o.
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    batch, steps, hidden = previous_h.shape
    rows = batch * steps
    bias = bias_hh + bias_ih  # (4H,)
    previous_rows = previous_h.reshape(rows, hidden)
    input_rows = layer_input.reshape(rows, -1)
    gate_rows = gate_values.view(4, rows, hidden)
    # W_hh h_{t-1} + W_ih x_t + (b_hh + b_ih) for every step: GEMMs over blocks of steps, so
    # the largest run holds a (ROW_BLOCK, 4H) temporary, not a (B*T, 4H) one.
    for start in range(0, rows, ROW_BLOCK):
        block = slice(start, start + ROW_BLOCK)
        pre = torch.addmm(bias, previous_rows[block], weight_hh.t())  # (rows in block, 4H)
        pre.addmm_(input_rows[block], weight_ih.t())
        for n, squash in enumerate((torch.sigmoid, torch.sigmoid, torch.tanh, torch.sigmoid)):
            squash(pre[:, n * hidden : (n + 1) * hidden], out=gate_rows[n, block])
    i, f, g, o = gate_values  # (B, T, H) each
    # i * g, held in hidden_states until h is computed last.
    written = torch.mul(i, g, out=hidden_states)  # (B, T, H)
    cell = torch.zeros_like(written[:, 0]) if initial_cell is None else initial_cell  # (B, H)
    kept = torch.empty_like(cell)
    # The one sequential part: (B, H) slices, written in place, kept and written summed in that
    # order (a fused multiply-add would round differently from step_update's f*c + i*g).
    for f_t, written_t, cell_t in zip(
        f.unbind(1), written.unbind(1), cell_states.unbind(1), strict=True
    ):
        torch.mul(f_t, cell, out=kept)
        cell = torch.add(kept, written_t, out=cell_t)
    torch.tanh(cell_states, out=hidden_states).mul_(o)  # h = o * tanh(C)


@torch.no_grad()
def reference_trajectory(
    lstm: nn.LSTM,
    x: torch.Tensor,
    initial: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """nn.LSTM's h at every step of every layer, and its (h_n, c_n): one call per layer.

    x (B, T, I). Returns h (L, B, T, H) and c_n (L, B, H); h_n is h[:, :, -1]. The initial
    states are `initial` = (h_0, c_0), each (L, B, H), or zero; layer k reads layer k-1's h, as
    inside nn.LSTM.
    """
    if lstm.bidirectional or lstm.proj_size or not lstm.batch_first or not lstm.bias:
        raise ValueError("reference_trajectory takes a unidirectional batch_first nn.LSTM")
    batch, steps, _ = x.shape
    layers, hidden = lstm.num_layers, lstm.hidden_size
    hidden_states = x.new_empty(layers, batch, steps, hidden)  # (L, B, T, H)
    final_cell = x.new_empty(layers, batch, hidden)  # (L, B, H)
    if initial is None:
        initial = (x.new_zeros(layers, batch, hidden), x.new_zeros(layers, batch, hidden))
    layer_input = x
    for k in range(layers):
        start = [initial[0][k : k + 1], initial[1][k : k + 1]]  # (1, B, H) each
        output, _, c_n = _nn_lstm_layer(layer_input, start, _layer_weights(lstm, k))
        hidden_states[k] = output
        final_cell[k] = c_n[0]
        # The call's own tensor, not the copy: MKL's rounding can follow memory alignment,
        # and nn.LSTM hands layer k the output tensor itself.
        layer_input = output
    return hidden_states, final_cell


@torch.no_grad()
def manual_trajectory(
    lstm: nn.LSTM,
    x: torch.Tensor,
    reference_h: torch.Tensor | None = None,
    initial: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """The equations written out with `lstm`'s weights: h, C and the gates i, f, g, o.

    x (B, T, I). Each step reads nn.LSTM's h_{t-1} (`reference_h` (L, B, T, H), computed with
    `reference_trajectory` when not given) and the cell's own C_{t-1}. The states before the
    first step are `initial` = (h_0, c_0), each (L, B, H), or zero: a long input can be read
    window by window, each starting where the last ended. A given `reference_h` must start
    from the same h_0 (and nn.LSTM's own c_0, which may differ from the cell's in the last
    bits); when not given, nn.LSTM starts from `initial` as it is. Returns h (L, B, T, H), C
    (L, B, T, H) and {"i", "f", "g", "o"} each (L, B, T, H).
    """
    if reference_h is None:
        reference_h, _ = reference_trajectory(lstm, x, initial)
    batch, steps, _ = x.shape
    layers, hidden = lstm.num_layers, lstm.hidden_size
    hidden_states = x.new_empty(layers, batch, steps, hidden)  # (L, B, T, H)
    cell_states = x.new_empty(layers, batch, steps, hidden)
    gate_values = x.new_empty(layers, 4, batch, steps, hidden)  # (L, 4, B, T, H) i, f, g, o
    for k in range(layers):
        _cell_layer(
            x if k == 0 else reference_h[k - 1],  # (B, T, I or H)
            _previous(reference_h[k], None if initial is None else initial[0][k]),
            _layer_weights(lstm, k),
            hidden_states[k],
            cell_states[k],
            gate_values[k],
            None if initial is None else initial[1][k],
        )
    gates = {name: gate_values[:, n] for n, name in enumerate(GATE_NAMES)}
    return hidden_states, cell_states, gates


@torch.no_grad()
def one_step_states(
    lstm: nn.LSTM, x: torch.Tensor, hidden_states: torch.Tensor, cell_states: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """nn.LSTM's own (h_t, C_t) at every step of every layer, from given previous states.

    x (B, T, I); hidden_states, cell_states (L, B, T, H): a trajectory. Step t of layer k
    starts from (h_{t-1}, C_{t-1}) of that trajectory (zero at t = 0) and reads x_t (layer 0)
    or hidden_states[k-1]'s h_t. Every step goes through nn.LSTM at once, as B*T sequences of
    one step. Returns h and C (L, B, T, H).
    """
    batch, steps, _ = x.shape
    layers, hidden = lstm.num_layers, lstm.hidden_size
    one_step_h = x.new_empty(layers, batch, steps, hidden)  # (L, B, T, H)
    one_step_c = x.new_empty(layers, batch, steps, hidden)
    rows = batch * steps
    for k in range(layers):
        weights = _layer_weights(lstm, k)
        layer_input = (x if k == 0 else hidden_states[k - 1]).reshape(rows, 1, -1)  # (B*T, 1, I)
        previous_h = _previous(hidden_states[k]).reshape(1, rows, hidden)
        previous_c = _previous(cell_states[k]).reshape(1, rows, hidden)
        h_out = one_step_h[k].view(rows, hidden)
        c_out = one_step_c[k].view(rows, hidden)
        # In blocks of sequences: nn.LSTM's gate buffers are (rows, 4H) several times over,
        # which over every row at once would dominate the largest run's peak memory.
        for start in range(0, rows, ROW_BLOCK):
            block = slice(start, start + ROW_BLOCK)
            _, h_t, c_t = _nn_lstm_layer(
                layer_input[block], [previous_h[:, block], previous_c[:, block]], weights
            )
            h_out[block] = h_t[0]
            c_out[block] = c_t[0]
    return one_step_h, one_step_c


def simulate(
    config: RunConfig, state_dict: dict[str, torch.Tensor] | None = None
) -> SimulationResult:
    """Run `config` through nn.LSTM and the hand-written cell (see the notes above).

    Deterministic: the same config (and weights) gives bit-identical tensors, whatever else
    the process does with torch's global RNG.
    """
    states = config.num_layers * config.batch_size * config.seq_len * config.hidden_dim
    with threads_for(states):
        x, lstm = build_model(config, state_dict)
        with default_kernel():
            h, c_n = reference_trajectory(lstm, x)  # (L, B, T, H), (L, B, H)
        manual_h, manual_c, gates = manual_trajectory(lstm, x, h)
        with default_kernel():
            # nn.LSTM's C_t, each step from nn.LSTM's h_{t-1} and the cell's C_{t-1}.
            one_step_h, c = one_step_states(lstm, x, h, manual_c)
        stepped_vs_whole = max(
            (one_step_h - h).abs().max().item(),
            (c[:, :, -1] - c_n).abs().max().item(),
        )
    return SimulationResult(
        config=config,
        x=x,
        h=h,
        c=c,
        manual_h=manual_h,
        manual_c=manual_c,
        gates=gates,
        output=h[-1],
        h_n=h[:, :, -1].clone(),
        c_n=c_n,
        parameters={name: p.detach().clone() for name, p in lstm.state_dict().items()},
        max_abs_diff={
            "h": (manual_h - h).abs().max().item(),
            "c": (manual_c - c).abs().max().item(),
        },
        stepped_vs_whole=stepped_vs_whole,
    )
