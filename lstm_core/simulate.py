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

import contextlib
import math
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
from torch import nn

from lstm_core.config import RunConfig
from lstm_core.signals import make_input

# PyTorch picks oneDNN (mkldnn) for float32 LSTMs on CPU by default. Its sigmoid and tanh are
# approximations: it and the written-out equations part by a few float32 ulps per step, which
# add up in a large C. The reference therefore runs PyTorch's native ATen kernel (the one it
# uses for float64 and on builds without oneDNN). The switch is process-wide, hence the lock:
# concurrent sessions must never see each other's setting.
_BACKEND_LOCK = threading.RLock()


@contextlib.contextmanager
def native_kernel() -> Iterator[None]:
    """Run nn.LSTM / nn.GRU / nn.RNN on PyTorch's native CPU kernel inside this block."""
    with _BACKEND_LOCK:
        was_enabled = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        try:
            yield
        finally:
            torch.backends.mkldnn.enabled = was_enabled


GATE_NAMES: tuple[str, ...] = ("i", "f", "g", "o")
TORCH_DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class SimulationResult:
    """One run. Every tensor is on the CPU in the config's dtype; treat them as read-only.

    Layouts: L layers, B batch items, T steps, I input features, H units.
    """

    config: RunConfig
    x: torch.Tensor  # (B, T, I) the input sequence
    h: torch.Tensor  # (L, B, T, H) hidden state from nn.LSTM, stepped one step at a time
    c: torch.Tensor  # (L, B, T, H) cell state from nn.LSTM, stepped one step at a time
    manual_h: torch.Tensor  # (L, B, T, H) hidden state from the hand-written cell
    manual_c: torch.Tensor  # (L, B, T, H) cell state from the hand-written cell
    gates: dict[str, torch.Tensor]  # "i", "f", "g", "o" -> (L, B, T, H), hand-written cell
    output: torch.Tensor  # (B, T, H) nn.LSTM on the whole sequence in one call: last layer's h
    h_n: torch.Tensor  # (L, B, H) that call's final hidden state
    c_n: torch.Tensor  # (L, B, H) that call's final cell state
    parameters: dict[str, torch.Tensor] = field(repr=False)  # nn.LSTM's state_dict
    # max |manual - reference| over every layer, item, step and unit, for "h" and "c"
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    # max |stepped - whole-sequence call| for the last layer's h and the final (h_n, c_n)
    stepped_vs_whole: float = 0.0


def build_model(
    config: RunConfig, state_dict: dict[str, torch.Tensor] | None = None
) -> tuple[torch.Tensor, nn.LSTM]:
    """The input x (B, T, I) and the nn.LSTM of a run, both in the config's dtype.

    A private generator seeded with `config.seed` draws, in this order, noise = randn(B, T, I)
    and every parameter U(-1/sqrt(H), 1/sqrt(H)) in the module's parameter order: exactly what
    `torch.manual_seed(seed); x = torch.randn(B, T, I); nn.LSTM(I, H, L, batch_first=True)`
    gives, without touching the global RNG. The draws are float32; float64 casts them, so the
    dtype changes only the arithmetic. `state_dict`, if given, replaces the drawn weights.
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
        if state_dict is not None:
            lstm.load_state_dict(state_dict)
    dtype = TORCH_DTYPES[config.dtype]
    x = make_input(config, noise).to(dtype)
    return x, lstm.to(dtype)


# The two stepping loops below are TorchScript: the loop runs in C++ without the GIL, so the
# reference and the hand-written twin step side by side on two cores (Python threads alone
# fight over the GIL at every op and end up slower than one thread), and each step pays ~15 µs
# of interpreter instead of ~60 µs of Python. They call the very same ATen ops, in the same
# order, as the Python they replace: the results are bit-identical (tests/test_simulate.py).
# torch.jit.script is deprecated in favour of torch.compile, which would fuse and reorder the
# floating-point work; torch is pinned (2.13.0), so the warning is silenced here only.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)

    @torch.jit.script
    def _reference_steps(
        x: torch.Tensor,
        flat_weights: list[torch.Tensor],
        has_biases: bool,
        num_layers: int,
        hidden_states: torch.Tensor,
        cell_states: torch.Tensor,
    ) -> None:
        """Fill hidden_states and cell_states (L, B, T, H) by calling aten::lstm once per step.

        aten::lstm is what nn.LSTM.forward calls (torch._VF.lstm) with the module's own
        _flat_weights; eval mode, no dropout, unidirectional, batch_first.
        """
        steps = x.size(1)
        h = hidden_states.new_zeros(
            hidden_states.size(0), hidden_states.size(1), hidden_states.size(3)
        )  # (L, B, H)
        c = torch.zeros_like(h)
        for t in range(steps):
            # Arguments after the weights: has_biases, num_layers, dropout, train,
            # bidirectional, batch_first, as nn.LSTM.forward passes them in eval mode.
            _, h, c = torch.lstm(
                x[:, t : t + 1],
                [h, c],
                flat_weights,
                has_biases,
                num_layers,
                0.0,
                False,
                False,
                True,
            )
            hidden_states[:, :, t] = h
            cell_states[:, :, t] = c

    @torch.jit.script
    def _manual_layer(
        layer_input: torch.Tensor,
        weight_ih: torch.Tensor,
        weight_hh: torch.Tensor,
        bias_ih: torch.Tensor,
        bias_hh: torch.Tensor,
        hidden_states: torch.Tensor,
        cell_states: torch.Tensor,
        gate_values: torch.Tensor,
    ) -> None:
        """One layer of the written-out equations over every step, zero initial state.

        layer_input (B, T, I); fills hidden_states, cell_states (B, T, H) and gate_values
        (4, B, T, H) in the order i, f, g, o.
        """
        batch, steps = layer_input.size(0), layer_input.size(1)
        hidden = weight_hh.size(1)
        h = layer_input.new_zeros(batch, hidden)  # (B, H)
        c = layer_input.new_zeros(batch, hidden)
        for t in range(steps):
            # Grouped as in PyTorch's native CPU kernel stepped one step at a time, so the
            # rounding is the same: (W_hh h + b_hh) + (W_ih x_t + b_ih). Each gate is its own
            # (B, H) slice as in the kernel's chunk: one sigmoid over all 4H would put other
            # elements in the vectorised loop's scalar tail and change the last bits.
            pre = torch.nn.functional.linear(h, weight_hh, bias_hh) + torch.nn.functional.linear(
                layer_input[:, t], weight_ih, bias_ih
            )  # (B, 4H)
            i = torch.sigmoid(pre[:, :hidden])
            f = torch.sigmoid(pre[:, hidden : 2 * hidden])
            g = torch.tanh(pre[:, 2 * hidden : 3 * hidden])
            o = torch.sigmoid(pre[:, 3 * hidden :])
            c = f * c + i * g
            h = o * torch.tanh(c)
            hidden_states[:, t] = h
            cell_states[:, t] = c
            gate_values[0, :, t] = i
            gate_values[1, :, t] = f
            gate_values[2, :, t] = g
            gate_values[3, :, t] = o


@torch.no_grad()
def reference_trajectory(lstm: nn.LSTM, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """h and C of every layer at every step, from nn.LSTM itself: (L, B, T, H) each.

    nn.LSTM returns C only for the last step, so it is called once per step with the state
    carried over; zero initial states. Call it inside `native_kernel()` for bit-level
    agreement with `manual_trajectory`.
    """
    if lstm.bidirectional or lstm.proj_size or not lstm.batch_first:
        raise ValueError("reference_trajectory takes a unidirectional batch_first nn.LSTM")
    batch, steps, _ = x.shape
    layers, hidden = lstm.num_layers, lstm.hidden_size
    hidden_states = x.new_empty(layers, batch, steps, hidden)  # (L, B, T, H)
    cell_states = x.new_empty(layers, batch, steps, hidden)
    flat_weights = [w.detach() for w in lstm._flat_weights]
    _reference_steps(x, flat_weights, lstm.bias, layers, hidden_states, cell_states)
    return hidden_states, cell_states


@torch.no_grad()
def manual_trajectory(
    lstm: nn.LSTM, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """The equations written out with `lstm`'s weights: h, C and the gates i, f, g, o.

    Returns h (L, B, T, H), C (L, B, T, H) and {"i", "f", "g", "o"} each (L, B, T, H).
    Layer k reads layer k-1's h; zero initial states.
    """
    batch, steps, _ = x.shape
    layers, hidden = lstm.num_layers, lstm.hidden_size
    hidden_states = x.new_empty(layers, batch, steps, hidden)  # (L, B, T, H)
    cell_states = x.new_empty(layers, batch, steps, hidden)
    gate_values = x.new_empty(layers, 4, batch, steps, hidden)  # (L, 4, B, T, H) i, f, g, o
    layer_input = x  # (B, T, I) for layer 0, then the previous layer's h
    for k in range(layers):
        _manual_layer(
            layer_input,
            getattr(lstm, f"weight_ih_l{k}").detach(),  # (4H, I or H)
            getattr(lstm, f"weight_hh_l{k}").detach(),  # (4H, H)
            getattr(lstm, f"bias_ih_l{k}").detach(),  # (4H,)
            getattr(lstm, f"bias_hh_l{k}").detach(),  # (4H,)
            hidden_states[k],
            cell_states[k],
            gate_values[k],
        )
        layer_input = hidden_states[k]
    gates = {name: gate_values[:, n] for n, name in enumerate(GATE_NAMES)}
    return hidden_states, cell_states, gates


def simulate(
    config: RunConfig, state_dict: dict[str, torch.Tensor] | None = None
) -> SimulationResult:
    """Run `config` through nn.LSTM (stepped, and whole-sequence) and the hand-written cell.

    Deterministic: the same config (and weights) gives bit-identical tensors, whatever else
    the process does with torch's global RNG.
    """
    x, lstm = build_model(config, state_dict)

    def whole_sequence() -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        with torch.no_grad():
            return lstm(x)  # (B, T, H), ((L, B, H), (L, B, H))

    # Three independent computations: nn.LSTM on the whole sequence, nn.LSTM stepped, and the
    # hand-written cell. They run side by side in threads (the stepping loops release the GIL,
    # see above) and share the cores; none reads another's output, so every tensor is the one
    # a serial run gives. native_kernel() is held around all three (the flag is process-wide);
    # the hand-written cell calls no nn.LSTM, so the flag does not touch it.
    with (
        native_kernel(),
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="lstm-reference") as pool,
    ):
        whole = pool.submit(whole_sequence)
        stepped = pool.submit(reference_trajectory, lstm, x)
        manual_h, manual_c, gates = manual_trajectory(lstm, x)
        output, (h_n, c_n) = whole.result()
        h, c = stepped.result()  # (L, B, T, H) each
    stepped_vs_whole = max(
        (h[-1] - output).abs().max().item(),
        (h[:, :, -1] - h_n).abs().max().item(),
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
        output=output,
        h_n=h_n,
        c_n=c_n,
        parameters={name: p.detach().clone() for name, p in lstm.state_dict().items()},
        max_abs_diff={
            "h": (manual_h - h).abs().max().item(),
            "c": (manual_c - c).abs().max().item(),
        },
        stepped_vs_whole=stepped_vs_whole,
    )
