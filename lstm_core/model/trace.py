"""Any nn.LSTM already in memory, traced: every step of every layer and direction.

`lstm_core.trace` is `trace` here (re-exported); the figures are in lstm_core.figures.traced.

    import lstm_core
    t = lstm_core.trace(lstm, x)          # any nn.LSTM: layers, bidirectional, proj_size, bias
    t.max_abs_diff                        # {"h": ..., "c": ...} hand-written cell vs nn.LSTM
    t.frame()                             # tidy pandas DataFrame, one row per state value
    lstm_core.states_figure(t, layer=0, direction=0, batch=0)   # the Explorer's figure

Shapes (L layers, D directions, B batch items, T steps, I features, H hidden units,
P = proj_size or H) are batch first whatever the module's `batch_first`: x (B, T, I);
h (L, D, B, T, P); c and each gate (L, D, B, T, H). Slot k·D + d of nn.LSTM's h_n is
`t.h[k, d, :, -1]` forward and `t.h[k, d, :, 0]` reverse. How each number is obtained:
lstm_core.model.stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from lstm_core.model.cell import PRODUCT_HEADINGS
from lstm_core.model.config import MAX_STATE_ELEMENTS
from lstm_core.model.simulate import GATE_NAMES
from lstm_core.model.stack import run_stack

# How a chart names a traced model read from the user's own file (lstm_core.figures.traced's
# default title; ModelSource.title for kind "file").
FILE_MODEL_TITLE = "Your LSTM"
DIRECTION_NAMES: tuple[str, ...] = ("forward", "reverse")


@dataclass(frozen=True, repr=False)
class Trace:
    """One traced run of an nn.LSTM. Tensors are CPU, in the module's dtype, read-only."""

    input_size: int  # I
    hidden_size: int  # H: units of C and of every gate
    num_layers: int  # L
    num_directions: int  # D: 2 when bidirectional
    proj_size: int  # P > 0: h is P wide (h = W_hr (o ⊙ tanh C)); 0 = no projection
    bias: bool
    x: torch.Tensor  # (B, T, I) the input, batch first
    h: torch.Tensor  # (L, D, B, T, P) nn.LSTM's hidden state
    c: torch.Tensor  # (L, D, B, T, H) nn.LSTM's cell state, step t from one-step calls
    manual_h: torch.Tensor  # (L, D, B, T, P) the hand-written cell's h
    manual_c: torch.Tensor  # (L, D, B, T, H) the hand-written cell's C
    unprojected_h: torch.Tensor  # (L, D, B, T, H) o ⊙ tanh(C), hand-written: h before W_hr
    gates: dict[str, torch.Tensor]  # "i", "f", "g", "o" -> (L, D, B, T, H), hand-written
    output: torch.Tensor  # (B, T, D·P) nn.LSTM's output (batch first)
    h_n: torch.Tensor  # (L·D, B, P) nn.LSTM's final hidden state
    c_n: torch.Tensor  # (L·D, B, H) nn.LSTM's final cell state
    # max |hand-written - nn.LSTM| over everything, for "h" and "c"
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    stepped_vs_whole: float = 0.0  # max |one-step calls - whole-sequence calls| of nn.LSTM
    # (L, D, B, H) the C each layer and direction starts from: the initial_state's c_0 (the
    # reverse direction's, before it reads step T - 1, its first); None: zeros
    c_0: torch.Tensor | None = None

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[0])

    @property
    def seq_len(self) -> int:
        return int(self.x.shape[1])

    @property
    def output_size(self) -> int:
        """The width of h: P, or H without a projection."""
        return self.proj_size or self.hidden_size

    def mean_forget(self, layer: int, direction: int, batch: int) -> float:
        """The mean forget gate over the units and steps of one layer, direction and batch item:
        the share of itself C keeps per step, on average."""
        return float(self.gates["f"][layer, direction, batch].mean())

    def __repr__(self) -> str:
        return (
            f"Trace(input {self.input_size}, hidden {self.hidden_size}, proj {self.proj_size}, "
            f"layers {self.num_layers}, directions {self.num_directions}, batch "
            f"{self.batch_size}, steps {self.seq_len}, max |hand-written - nn.LSTM| h "
            f"{self.max_abs_diff['h']:.3g}, c {self.max_abs_diff['c']:.3g})"
        )

    def frame(self) -> pd.DataFrame:
        """Every state in long form: one row per layer, direction, batch item, step and unit.

        Columns: layer, direction, batch, t, unit (int16 / int8 / int32) as in
        lstm_core.io.tidy.tidy_frame; h, c (nn.LSTM); i, f, g, o, manual_h, manual_c (the
        hand-written cell), in the run's dtype. Units run over the H cell units; with a
        projection h and manual_h are NaN for units >= P and a column o_tanh_c holds
        o ⊙ tanh(C). Rows in C order of (layer, direction, batch, t, unit).
        """
        layers, directions, batch, steps = self.c.shape[:4]
        hidden = self.hidden_size
        shape = (layers, directions, batch, steps, hidden)
        grid = np.indices(shape, sparse=True)
        columns: dict[str, np.ndarray] = {}
        for name, axis, dtype in (
            ("layer", grid[0], np.int16),
            ("direction", grid[1], np.int8),
            ("batch", grid[2], np.int16),
            ("t", grid[3], np.int32),
            ("unit", grid[4], np.int16),
        ):
            columns[name] = np.broadcast_to(axis, shape).astype(dtype).ravel()

        def widened(tensor: torch.Tensor) -> np.ndarray:  # (L, D, B, T, P) -> H units, NaN pad
            values = tensor.detach().numpy()
            if values.shape[-1] == hidden:
                return values.ravel()
            padded = np.full(shape, np.nan, dtype=values.dtype)
            padded[..., : values.shape[-1]] = values
            return padded.ravel()

        columns["h"] = widened(self.h)
        columns["c"] = self.c.detach().numpy().ravel()
        for name in GATE_NAMES:
            columns[name] = self.gates[name].detach().numpy().ravel()
        columns["manual_h"] = widened(self.manual_h)
        columns["manual_c"] = self.manual_c.detach().numpy().ravel()
        if self.proj_size:
            columns["o_tanh_c"] = self.unprojected_h.detach().numpy().ravel()
        return pd.DataFrame(columns, copy=False)


def _check_state(
    initial_state: tuple[torch.Tensor, torch.Tensor],
    shapes: tuple[tuple[int, ...], tuple[int, ...]],
    dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(initial_state, tuple | list) or len(initial_state) != 2:
        raise ValueError("initial_state must be a pair (h_0, c_0), as nn.LSTM takes it")
    checked = []
    for name, tensor, shape in zip(("h_0", "c_0"), initial_state, shapes, strict=True):
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{name} must be a tensor, got {type(tensor).__name__}")
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}; this LSTM needs {shape}")
        checked.append(tensor.detach().to(device="cpu", dtype=dtype))
    return checked[0], checked[1]


def trace(
    lstm: nn.LSTM,
    x: torch.Tensor,
    initial_state: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    max_states: int = MAX_STATE_ELEMENTS,
) -> Trace:
    """Run `lstm` on x and the hand-written cell beside it; every state and gate, every step.

    x as `lstm` takes it: (B, T, I) when batch_first, else (T, B, I); or unbatched (T, I),
    traced as one batch item. initial_state: (h_0 (L·D, B, P), c_0 (L·D, B, H)) as nn.LSTM
    takes it ((L·D, P), (L·D, H) for unbatched x), zeros if None. Evaluated as in eval mode
    (no dropout); the module is not changed. Float32 or float64 (the module's dtype; x is
    cast to it), CPU. Raises ValueError on anything else, or above `max_states` states
    (L·D·B·T·H; the app's cap by default).
    """
    if not isinstance(lstm, nn.LSTM):
        raise ValueError(f"trace takes an nn.LSTM, got {type(lstm).__name__}")
    parameter = lstm.weight_ih_l0
    if parameter.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"trace runs float32 or float64 LSTMs; this one is {parameter.dtype}")
    if parameter.device.type != "cpu":
        raise ValueError("trace runs on the CPU; pass lstm.cpu() (a copy if you keep training)")
    if not isinstance(x, torch.Tensor) or x.dim() not in (2, 3):
        raise ValueError("x must be a tensor (B, T, I), (T, B, I) or unbatched (T, I)")
    unbatched = x.dim() == 2
    x = x.detach().to(device="cpu", dtype=parameter.dtype)
    if unbatched:
        x = x.unsqueeze(0)  # (1, T, I)
    elif not lstm.batch_first:
        x = x.transpose(0, 1)  # (T, B, I) -> (B, T, I)
    x = x.contiguous()
    batch, steps, features = x.shape
    if features != lstm.input_size:
        raise ValueError(f"x has {features} features per step but the LSTM reads {lstm.input_size}")
    if steps == 0 or batch == 0:
        raise ValueError(f"x must have at least one step and one batch item, got {tuple(x.shape)}")
    directions = 2 if lstm.bidirectional else 1
    width = lstm.proj_size or lstm.hidden_size
    states = lstm.num_layers * directions * batch * steps * lstm.hidden_size
    if states > max_states:
        raise ValueError(
            f"layers x directions x batch x steps x hidden units = {states:,} states is above "
            f"max_states = {max_states:,}; trace a shorter piece or raise max_states"
        )
    state = None
    if initial_state is not None:
        slots = lstm.num_layers * directions
        shapes = ((slots, width), (slots, lstm.hidden_size))
        if not unbatched:
            shapes = ((slots, batch, width), (slots, batch, lstm.hidden_size))
        state = _check_state(initial_state, shapes, parameter.dtype)
        if unbatched:
            state = (state[0].unsqueeze(1), state[1].unsqueeze(1))
    run = run_stack(lstm, x, state)
    return Trace(
        input_size=lstm.input_size,
        hidden_size=lstm.hidden_size,
        num_layers=lstm.num_layers,
        num_directions=directions,
        proj_size=lstm.proj_size,
        bias=lstm.bias,
        x=x,
        h=run.h,
        c=run.c,
        manual_h=run.manual_h,
        manual_c=run.manual_c,
        unprojected_h=run.manual_unprojected_h,
        gates=run.gates,
        output=run.output,
        h_n=run.h_n,
        c_n=run.c_n,
        max_abs_diff=run.max_abs_diff,
        stepped_vs_whole=run.stepped_vs_whole,
        # slot k·D + d of c_0 is layer k, direction d (nn.LSTM's order)
        c_0=None
        if state is None
        else state[1].reshape(lstm.num_layers, directions, batch, lstm.hidden_size).clone(),
    )


# step_rows' heading for o ⊙ tanh(C_t) when a projection maps it to h_t.
UNPROJECTED_HEADING = "o⊙tanh(C_t)"


def step_rows(
    t: Trace, layer: int, direction: int, batch: int, step: int
) -> tuple[list[dict[str, float | int]], list[dict[str, float | int]]]:
    """The update of one step, unit by unit, from the hand-written cell's values.

    Returns (cell rows, projection rows). Cell rows, one per cell unit k < H: "unit", then each
    product under its PRODUCT_HEADINGS heading (o ⊙ tanh C_t under UNPROJECTED_HEADING with a
    projection, where it is not h_t). Projection rows (empty without
    a projection), one per h unit j < P: h_t[j] = Σ_k W_hr[j, k] (o ⊙ tanh C_t)[k]. `step` is
    the sequence index t; the reverse direction reads the sequence backwards, so the state it
    had before step t is at index t + 1.
    """
    if not (0 <= layer < t.num_layers and 0 <= direction < t.num_directions):
        raise ValueError(f"layer {layer} / direction {direction} is not in this trace")
    if not (0 <= batch < t.batch_size and 0 <= step < t.seq_len):
        raise ValueError(f"batch item {batch} / step {step} is not in this trace")
    gates = {name: t.gates[name][layer, direction, batch, step] for name in GATE_NAMES}  # (H,)
    cell = t.manual_c[layer, direction, batch]  # (T, H)
    previous_step = step - 1 if direction == 0 else step + 1
    if 0 <= previous_step < t.seq_len:
        previous = cell[previous_step]
    elif t.c_0 is not None:
        previous = t.c_0[layer, direction, batch]  # the initial state's C
    else:
        previous = torch.zeros_like(cell[step])  # the zero start state
    kept = gates["f"] * previous
    written = gates["i"] * gates["g"]
    squashed = torch.tanh(cell[step])
    unprojected = t.unprojected_h[layer, direction, batch, step]  # (H,)
    rows: list[dict[str, float | int]] = []
    for k in range(t.hidden_size):
        values = {
            "c_prev": previous[k],
            "f": gates["f"][k],
            "kept": kept[k],
            "i": gates["i"][k],
            "g": gates["g"][k],
            "written": written[k],
            "c": cell[step, k],
            "o": gates["o"][k],
            "tanh_c": squashed[k],
            "h": unprojected[k],
        }
        row: dict[str, float | int] = {"unit": k}
        for name, heading in PRODUCT_HEADINGS.items():
            # With a projection, o ⊙ tanh(C_t) is what W_hr maps to h_t, not h_t itself.
            row[UNPROJECTED_HEADING if name == "h" and t.proj_size else heading] = float(
                values[name]
            )
        rows.append(row)
    projected: list[dict[str, float | int]] = []
    if t.proj_size:
        h = t.manual_h[layer, direction, batch, step]  # (P,)
        for j in range(t.proj_size):
            projected.append({"h unit": j, "h_t = (W_hr (o ⊙ tanh C_t))_j": float(h[j])})
    return rows, projected
