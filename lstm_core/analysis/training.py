"""A long-memory task: the adding problem (Hochreiter & Schmidhuber 1997), its data and model.

Each sequence has two channels over T steps: channel 0 holds values drawn U(0, 1), channel 1
is 0 except for a marker 1 at two positions, one in the first tenth of the sequence and one in
the second half. The target is the sum of the two marked values. Predicting the mean, 1.0,
scores MSE = Var(U + U') = 2/12 ≈ 0.167; getting below that needs the first value carried
across at least T/2 - T/10 steps.

An nn.LSTM (or a same-size nn.RNN(tanh) for contrast) reads the sequence and a linear readout
maps its last hidden state to the prediction. Training is deterministic: every draw (data,
weights) comes from a private torch.Generator seeded with the seed, and the recurrent modules
run inside `native_kernel()`. The training loop is lstm_core.learned's (`fit`):
lstm_core.learned.adding trains the pair (`train_pair`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from lstm_core.analysis.cell_finder import pearson
from lstm_core.model.kernels import native_kernel
from lstm_core.model.settings import SETTING

TASKS: tuple[str, ...] = ("adding",)
# Predicting 1.0 for every sequence: Var(U(0,1) + U(0,1)) = 1/6.
BASELINE_MSE = 1.0 / 6.0
TEST_SEQUENCES = 512  # the fixed test set the MSE is reported on
SEQ_LEN_RANGE = (10, 1000)
HIDDEN_RANGE = (1, 256)
STEPS_RANGE = (1, 5000)
BATCH_RANGE = (1, 1024)
# The held-out sequences' generator is seeded this far from the training seed, so they are never
# drawn from the training stream (every task's held-out data, the adding problem's included).
HELD_OUT_SEED_OFFSET = 1_000_003
# The default budget: enough optimiser steps for the LSTM at T = 100 to leave the baseline's
# plateau and learn the task with the default seed; other seeds may need up to
# SUGGESTED_STEPS, which the Memory lab suggests when the LSTM stays at the baseline
# (README, Performance: Memory lab and training sizes).
DEFAULT_HIDDEN = 32
DEFAULT_STEPS = 800
SUGGESTED_STEPS = 2_000
DEFAULT_BATCH = 64
DEFAULT_LR = 1e-2

# The expected training speed at the default size (T = 100, H = 32, batch 64) on a busy class
# server, in sequence steps per second (optimiser steps x T, both models; README, One server
# for a class): the estimate until a training of the same size has run on this server.
DEFAULT_TRAINING_RATE = 3300.0

# on_step(step, total, loss): called after every optimiser step, step counted from 1.
ProgressCallback = Callable[[int, int, float], None]


@dataclass(frozen=True)
class TrainSpec:
    """Everything that determines a training run; equal specs give identical weights."""

    task: str = "adding"
    seq_len: int = 100  # T
    hidden_dim: int = DEFAULT_HIDDEN  # H, the same for the LSTM and the RNN
    steps: int = DEFAULT_STEPS  # optimiser steps per model (the shared budget)
    batch_size: int = DEFAULT_BATCH
    lr: float = DEFAULT_LR
    seed: int = 0  # seeds data and weights

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        for name, (low, high) in (
            ("seq_len", SEQ_LEN_RANGE),
            ("hidden_dim", HIDDEN_RANGE),
            ("steps", STEPS_RANGE),
            ("batch_size", BATCH_RANGE),
            ("seed", SETTING["seed"].range),  # the same seeds as a run's
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number in {low}..{high}, got {value!r}")
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and 0 < self.lr <= 1):
            raise ValueError(f"lr must be in (0, 1], got {self.lr!r}")


def training_work(spec: TrainSpec) -> float:
    """The work of `train_pair(spec)` in sequence steps: optimiser steps x T, both models."""
    return 2.0 * spec.steps * spec.seq_len


def rate_key(spec: TrainSpec) -> tuple[str, int, int]:
    """What a measured training rate holds for: the task, the units and the batch size."""
    return (spec.task, spec.hidden_dim, spec.batch_size)


def adding_batch(
    batch: int, seq_len: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One batch of the adding problem: x (B, T, 2), target (B,), marker positions (B, 2).

    First marker uniform in [0, max(1, T // 10)), second uniform in [T // 2, T).
    """
    if seq_len < 4:
        raise ValueError("the adding problem needs seq_len >= 4")
    values = torch.rand(batch, seq_len, generator=generator)  # (B, T)
    first = torch.randint(0, max(1, seq_len // 10), (batch,), generator=generator)
    second = torch.randint(seq_len // 2, seq_len, (batch,), generator=generator)
    markers = torch.zeros(batch, seq_len)  # (B, T)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)  # (B, T, 2)
    target = values[rows, first] + values[rows, second]  # (B,)
    return x, target, torch.stack([first, second], dim=1)


class SequenceRegressor(nn.Module):
    """A recurrent layer (nn.LSTM or nn.RNN(tanh)) and a linear readout of its last h."""

    def __init__(self, kind: str, input_dim: int, hidden_dim: int) -> None:
        super().__init__()
        if kind not in ("lstm", "rnn"):
            raise ValueError(f"kind must be 'lstm' or 'rnn', got {kind!r}")
        self.kind = kind
        recurrent = nn.LSTM if kind == "lstm" else nn.RNN
        # Built on the meta device and filled from the private generator in `_init`.
        self.recurrent = recurrent(input_dim, hidden_dim, batch_first=True, device="meta")
        self.readout = nn.Linear(hidden_dim, 1, device="meta")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, I) -> prediction (B,)."""
        output, _ = self.recurrent(x)  # (B, T, H)
        return self.readout(output[:, -1]).squeeze(-1)  # (B,)


def new_model(kind: str, hidden_dim: int, generator: torch.Generator) -> SequenceRegressor:
    """A float32 SequenceRegressor with PyTorch's default init, drawn from `generator`."""
    model = SequenceRegressor(kind, 2, hidden_dim).to_empty(device="cpu")
    with torch.no_grad():
        bound = 1.0 / math.sqrt(hidden_dim)
        for parameter in model.parameters():
            parameter.uniform_(-bound, bound, generator=generator)
    return model


@torch.no_grad()
def evaluate(model: SequenceRegressor, x: torch.Tensor, target: torch.Tensor) -> float:
    """Mean squared error of `model` on x (N, T, 2) against target (N,)."""
    with native_kernel():
        return float(((model(x) - target) ** 2).mean())


def held_out_set(spec: TrainSpec) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed test sequences for `spec`: x (N, T, 2), target (N,), markers (N, 2).

    Drawn from its own generator (seed + HELD_OUT_SEED_OFFSET), never from the training stream.
    """
    generator = torch.Generator().manual_seed(spec.seed + HELD_OUT_SEED_OFFSET)
    return adding_batch(TEST_SEQUENCES, spec.seq_len, generator)


def expected_shapes(kind: str, input_dim: int, hidden_dim: int) -> dict[str, tuple[int, ...]]:
    """The state_dict keys and shapes of SequenceRegressor(kind, input_dim, hidden_dim)."""
    gates = 4 if kind == "lstm" else 1
    return {
        "recurrent.weight_ih_l0": (gates * hidden_dim, input_dim),
        "recurrent.weight_hh_l0": (gates * hidden_dim, hidden_dim),
        "recurrent.bias_ih_l0": (gates * hidden_dim,),
        "recurrent.bias_hh_l0": (gates * hidden_dim,),
        "readout.weight": (1, hidden_dim),
        "readout.bias": (1,),
    }


def check_lstm_state(state: dict[str, torch.Tensor], hidden_dim: int) -> None:
    """Raise ValueError unless `state` is exactly an LSTM SequenceRegressor(2, hidden_dim)."""
    expected = expected_shapes("lstm", 2, hidden_dim)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise ValueError(
            f"the weights do not match a trained adding-problem LSTM: missing {missing or 'none'}, "
            f"unexpected {extra or 'none'}"
        )
    for name, shape in expected.items():
        tensor = state[name]
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}, expected {shape}")
        if tensor.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"{name} must be float32 or float64, got {tensor.dtype}")
        if not torch.isfinite(tensor).all():
            raise ValueError(f"{name} holds NaN or infinite values")


def load_regressor(state: dict[str, torch.Tensor]) -> SequenceRegressor:
    """A float32 LSTM SequenceRegressor with `state` loaded (validated first)."""
    hidden = int(state["readout.weight"].shape[1]) if "readout.weight" in state else 0
    check_lstm_state(state, hidden)
    model = SequenceRegressor("lstm", 2, hidden).to_empty(device="cpu")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model


# |r| from which a unit is said to carry the first marked value (an untrained model's best
# unit sits far below), and from which it carries it closely.
CLEAR_CORRELATION = 0.5
STRONG_CORRELATION = 0.9


@dataclass(frozen=True)
class TrainedTrace:
    """The trained LSTM on test sequences: states, markers, and the unit that keeps value 1."""

    x: torch.Tensor  # (T, 2) the shown test sequence
    h: torch.Tensor  # (T, H) its hidden state
    c: torch.Tensor  # (T, H) its cell state
    markers: tuple[int, int]  # the shown sequence's two marked positions
    prediction: float
    target: float
    # Pearson's r over the test set between C[unit] one step before the second mark and the
    # first marked value: (H,). Before the second mark only the first value is in memory, so
    # this is the unit carrying it across the gap (C_T would mix in the second value).
    c_correlation: torch.Tensor
    h_correlation: torch.Tensor  # the same for h: (H,)
    memory_unit: int  # argmax |c_correlation|

    @property
    def memory_r_c(self) -> float:
        """r of the memory unit's C (the largest |r| of any C unit)."""
        return float(self.c_correlation[self.memory_unit])

    @property
    def memory_r_h(self) -> float:
        """r of the memory unit's h."""
        return float(self.h_correlation[self.memory_unit])

    @property
    def best_abs_r_h(self) -> float:
        """The largest |r| of any h unit."""
        return float(self.h_correlation.abs().max())

    @property
    def strong_c_units(self) -> int:
        """How many C units reach |r| >= STRONG_CORRELATION."""
        return int((self.c_correlation.abs() >= STRONG_CORRELATION).sum())


@torch.no_grad()
def trace_trained(state: dict[str, torch.Tensor], seq_len: int, seed: int = 0) -> TrainedTrace:
    """Run the trained LSTM on the test set of (seq_len, seed); pick the unit holding value 1.

    The measure: for every unit, Pearson's r over the TEST_SEQUENCES test sequences between
    its cell state one step before the second mark and the first marked value. The unit with
    the largest |r| is the one that carries the first value across the gap. Sequence 0 is the
    one shown.
    """
    model = load_regressor(state)
    spec = TrainSpec(seq_len=seq_len, hidden_dim=int(state["readout.weight"].shape[1]), seed=seed)
    x, target, markers = held_out_set(spec)
    lstm = model.recurrent
    batch, steps, _ = x.shape
    hidden = lstm.hidden_size
    h = x.new_zeros(1, batch, hidden)  # (1, N, H)
    c = x.new_zeros(1, batch, hidden)
    hs = x.new_empty(batch, steps, hidden)  # (N, T, H)
    cs = x.new_empty(batch, steps, hidden)
    with native_kernel():
        for t in range(steps):
            _, (h, c) = lstm(x[:, t : t + 1], (h, c))
            hs[:, t] = h[0]
            cs[:, t] = c[0]
        prediction = model(x[:1])
    rows = torch.arange(batch)
    first_value = x[rows, markers[:, 0], 0]  # (N,)
    before_second = markers[:, 1] - 1  # (N,) always after the first mark (T/2 - 1 >= T/10)
    c_corr = pearson(cs[rows, before_second], first_value)  # (N, H) -> (H,)
    h_corr = pearson(hs[rows, before_second], first_value)
    return TrainedTrace(
        x=x[0],
        h=hs[0],
        c=cs[0],
        markers=(int(markers[0, 0]), int(markers[0, 1])),
        prediction=float(prediction[0]),
        target=float(target[0]),
        c_correlation=c_corr,
        h_correlation=h_corr,
        memory_unit=int(c_corr.abs().argmax()),
    )
