"""Tasks that train a small LSTM in seconds, each with the quantity a cell should learn.

A `Task` says how its sequences are drawn (inputs, targets and per-step labels: the quantity a
cell should come to hold, e.g. the bracket depth), which model reads them (an embedding or the
LSTM's own input weights → nn.LSTM → a linear readout), the loss, and the held-out score with
its baseline. One training loop (`fit`) serves every task; `train_task` trains, scores the
held-out sequences and runs the cell finder on them, and returns a `TrainOutcome`.

Seeds: the weights come from a private torch.Generator seeded with `seed`, the training batches
from one seeded with `seed + 1`, the held-out sequences from one seeded with
`seed + HELD_OUT_SEED_OFFSET`; the global RNG is never touched, so equal specs give identical
weights. The recurrent layer runs on PyTorch's native kernel (`native_kernel`) for the same
reason.

Tasks: "adding" (lstm_core.learned.adding), "brackets" (lstm_core.learned.brackets), "recall"
(lstm_core.learned.recall); "code" (lstm_core.learned.code) trains through `train_named`.
"""

from __future__ import annotations

import importlib
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from lstm_core.analysis.cell_finder import UnitMatch, find_cells
from lstm_core.analysis.training import BATCH_RANGE, HELD_OUT_SEED_OFFSET, HIDDEN_RANGE
from lstm_core.learned.code import train_code
from lstm_core.learned.outcome import TrainOutcome, trained_seed
from lstm_core.model.kernels import native_kernel
from lstm_core.model.settings import SETTING

# on_step(step, total, loss): called after every optimiser step, step counted from 1.
ProgressCallback = Callable[[int, int, float], None]

STEPS_RANGE = (1, 20_000)
SEED_RANGE = SETTING["seed"].range

# Where each task lives: name -> (module, class). Imported on first use.
TASK_CLASSES: dict[str, tuple[str, str]] = {
    "adding": ("lstm_core.learned.adding", "AddingTask"),
    "brackets": ("lstm_core.learned.brackets", "BracketsTask"),
    "recall": ("lstm_core.learned.recall", "RecallTask"),
}
# Every name `train --task` takes; "code" is the character-level model of Python source.
TRAIN_TASKS: tuple[str, ...] = (*TASK_CLASSES, "code")


@dataclass(frozen=True)
class TaskBatch:
    """Sequences of one task: what the model reads and should output, what a cell should hold."""

    inputs: torch.Tensor  # (B, T) token ids, or (B, T, I) float channels
    targets: torch.Tensor  # what the loss compares the output with (shape per task)
    # Per label (B, T) float: the quantity at every step; NaN where it is not defined (a value
    # is only "stored" between its mark and its query).
    labels: dict[str, torch.Tensor]


@dataclass(frozen=True)
class TaskDefaults:
    """A task's default size and budget (chosen by measurement: see the README)."""

    hidden_dim: int  # H
    steps: int  # optimiser steps
    batch_size: int
    lr: float  # Adam
    seq_len: int  # T of the training and held-out sequences
    # Sequence steps a second (optimiser steps x T) the defaults trained at on a loaded 2-core
    # server (README, the sidebar's Model): the app's expected time until it has timed one.
    busy_rate: float


class Task(ABC):
    """One task: data, model, loss and held-out score. Subclasses set the class variables."""

    name: ClassVar[str]
    description: ClassVar[str] = ""  # what the model does and which cell to look for
    defaults: ClassVar[TaskDefaults]
    seq_len_range: ClassVar[tuple[int, int]]
    test_sequences: ClassVar[int]  # held-out sequences scored and searched for cells

    @abstractmethod
    def batch(self, size: int, seq_len: int, generator: torch.Generator) -> TaskBatch:
        """`size` sequences of `seq_len` steps, every draw from `generator`."""

    @abstractmethod
    def new_model(self, hidden_dim: int, generator: torch.Generator) -> nn.Module:
        """A float32 model whose nn.LSTM is `.recurrent`, weights drawn from `generator`."""

    def lstm_input(self, model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        """What the model's nn.LSTM reads for `inputs`: (B, T, I). The inputs, unless embedded."""
        return inputs

    @abstractmethod
    def step_words(self, inputs: torch.Tensor) -> list[list[str]]:
        """What each step of `inputs` reads, in a few words: B lists of T strings (Step
        through names the input of the step it shows)."""

    def step_answers(self, output: torch.Tensor, batch: TaskBatch) -> list[list[str]]:
        """What the model answers after each step of `batch` beside what it should, in a few
        words, from its `output` on `batch`: B lists of T strings; [] for a task whose model
        answers once a sequence."""
        return []

    @abstractmethod
    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """The scalar training loss of the model's output on `batch`."""

    @abstractmethod
    def score(self, output: torch.Tensor, batch: TaskBatch) -> dict[str, float]:
        """The held-out score and its baseline (names say which is which)."""

    def score_summary(self, score: dict[str, float]) -> str:
        """One sentence on a held-out `score` (what `score` returned) beside its baseline."""
        return "Held-out: " + ", ".join(f"{name} {value:.4g}" for name, value in score.items())

    def metadata(self, spec: TaskSpec) -> dict[str, str]:
        """What the saved weights file says of its model (safetensors metadata)."""
        return {
            "format": "lstm-state-explorer/task-lstm",
            "task": self.name,
            "seq_len": str(spec.seq_len),
            "hidden_dim": str(spec.hidden_dim),
            "seed": str(spec.seed),
            "steps": str(spec.steps),
        }

    def train(self, spec: TaskSpec, on_step: ProgressCallback | None = None) -> TrainOutcome:
        """Train on `spec`, score the held-out sequences and find the label cells there."""
        start = time.perf_counter()
        model, losses = fit(self, spec, on_step)
        seconds = time.perf_counter() - start
        return outcome(self, spec, model, losses[-1], seconds)


def get_task(name: str) -> Task:
    """The task called `name` (one of TASK_CLASSES)."""
    if name not in TASK_CLASSES:
        raise ValueError(f"task must be one of {', '.join(TASK_CLASSES)}, got {name!r}")
    module, cls = TASK_CLASSES[name]
    return getattr(importlib.import_module(module), cls)()


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number in {low}..{high}, got {value!r}")


@dataclass(frozen=True)
class TaskSpec:
    """Everything that determines a training run; equal specs give identical weights.
    Make one with `task_spec` (it fills the task's defaults)."""

    task: str
    seed: int  # seeds weights, training batches and held-out sequences
    hidden_dim: int
    steps: int
    batch_size: int
    lr: float
    seq_len: int

    def __post_init__(self) -> None:
        task = get_task(self.task)
        for name, (low, high) in (
            ("seed", SEED_RANGE),
            ("hidden_dim", HIDDEN_RANGE),
            ("steps", STEPS_RANGE),
            ("batch_size", BATCH_RANGE),
            ("seq_len", task.seq_len_range),
        ):
            _check_int(name, getattr(self, name), low, high)
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and 0 < self.lr <= 1):
            raise ValueError(f"lr must be in (0, 1], got {self.lr!r}")


def task_spec(
    task: str,
    seed: int = 0,
    hidden_dim: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    seq_len: int | None = None,
) -> TaskSpec:
    """A TaskSpec for `task`; every size or budget left None takes the task's default."""
    defaults = get_task(task).defaults
    given = {
        "hidden_dim": hidden_dim,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seq_len": seq_len,
    }
    values = {k: getattr(defaults, k) if v is None else v for k, v in given.items()}
    return TaskSpec(task=task, seed=seed, **values)


def init_parameters(model: nn.Module, hidden_dim: int, generator: torch.Generator) -> nn.Module:
    """Fill a meta-device model on the CPU from `generator`, in parameter order: embeddings
    N(0, 1), everything else PyTorch's LSTM default U(-1/sqrt(H), 1/sqrt(H))."""
    model = model.to_empty(device="cpu")
    bound = 1.0 / math.sqrt(hidden_dim)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.startswith("embedding."):
                parameter.normal_(0.0, 1.0, generator=generator)
            else:
                parameter.uniform_(-bound, bound, generator=generator)
    return model


class TokenLSTM(nn.Module):
    """Embedding → nn.LSTM → a linear readout of every step's h to next-symbol logits."""

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_dim: int) -> None:
        super().__init__()
        # Built on the meta device: `init_parameters` fills it from a private generator.
        self.embedding = nn.Embedding(vocab_size, embedding_dim, device="meta")
        self.recurrent = nn.LSTM(embedding_dim, hidden_dim, batch_first=True, device="meta")
        self.readout = nn.Linear(hidden_dim, vocab_size, device="meta")

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) long -> logits (B, T, V)."""
        output, _ = self.recurrent(self.embedding(tokens))  # (B, T, H)
        return self.readout(output)


class StepRegressor(nn.Module):
    """nn.LSTM on float channels → a linear readout of every step's h to one number."""

    def __init__(self, input_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.recurrent = nn.LSTM(input_dim, hidden_dim, batch_first=True, device="meta")
        self.readout = nn.Linear(hidden_dim, 1, device="meta")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, I) -> prediction at every step (B, T)."""
        output, _ = self.recurrent(x)  # (B, T, H)
        return self.readout(output).squeeze(-1)


def fit(
    task: Task, spec: TaskSpec, on_step: ProgressCallback | None = None
) -> tuple[nn.Module, list[float]]:
    """Train a new model of `task` on `spec` with Adam; returns it and every step's loss."""
    model = task.new_model(spec.hidden_dim, torch.Generator().manual_seed(spec.seed))
    data = torch.Generator().manual_seed(spec.seed + 1)
    optimiser = torch.optim.Adam(model.parameters(), lr=spec.lr)
    losses: list[float] = []
    with native_kernel():
        for step in range(1, spec.steps + 1):
            batch = task.batch(spec.batch_size, spec.seq_len, data)
            loss = task.loss(model(batch.inputs), batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            if on_step is not None:
                on_step(step, spec.steps, losses[-1])
    return model, losses


def held_out_batch(task: Task, seed: int, seq_len: int) -> TaskBatch:
    """The task's fixed held-out sequences for a training seed (never in the training stream)."""
    generator = torch.Generator().manual_seed(seed + HELD_OUT_SEED_OFFSET)
    return task.batch(task.test_sequences, seq_len, generator)


@torch.no_grad()
def run_lstm(lstm: nn.LSTM, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """h and C of a one-layer batch-first nn.LSTM at every step of x (B, T, I), from zero
    states, one step at a time so C_t is kept: ((B, T, H), (B, T, H))."""
    batch, steps, _ = x.shape
    h = x.new_zeros(1, batch, lstm.hidden_size)  # (1, B, H)
    c = x.new_zeros(1, batch, lstm.hidden_size)
    hs = x.new_empty(batch, steps, lstm.hidden_size)  # (B, T, H)
    cs = x.new_empty(batch, steps, lstm.hidden_size)
    with native_kernel():
        for t in range(steps):
            _, (h, c) = lstm(x[:, t : t + 1], (h, c))
            hs[:, t] = h[0]
            cs[:, t] = c[0]
    return hs, cs


@torch.no_grad()
def lstm_states(
    task: Task, model: nn.Module, inputs: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """h and C of the model's nn.LSTM at every step of `inputs`: ((B, T, H), (B, T, H))."""
    return run_lstm(model.recurrent, task.lstm_input(model, inputs))


def label_cells(
    h: torch.Tensor, c: torch.Tensor, labels: dict[str, torch.Tensor]
) -> dict[str, UnitMatch]:
    """`find_cells` per label over the steps where it is defined: h, c (B, T, H), labels
    {name: (B, T)} with NaN where undefined."""
    cells: dict[str, UnitMatch] = {}
    for name, values in labels.items():
        defined = torch.isfinite(values)  # (B, T)
        cells.update(find_cells(c[defined], h[defined], {name: values[defined]}))
    return cells


@torch.no_grad()
def outcome(
    task: Task, spec: TaskSpec, model: nn.Module, final_loss: float, seconds: float
) -> TrainOutcome:
    """A trained model's TrainOutcome: held-out score and cells, state and metadata."""
    test = held_out_batch(task, spec.seed, spec.seq_len)
    with native_kernel():
        score = task.score(model(test.inputs), test)
    h, c = lstm_states(task, model, test.inputs)
    return TrainOutcome(
        task=task.name,
        seconds=seconds,
        final_loss=final_loss,
        held_out=score,
        cells=label_cells(h, c, test.labels),
        state={k: v.detach().clone() for k, v in model.state_dict().items()},
        metadata=task.metadata(spec),
    )


def task_work(spec: TaskSpec) -> float:
    """The work of training `spec` in sequence steps (optimiser steps x T), what a job's rate
    is measured in."""
    return float(spec.steps * spec.seq_len)


def task_rate_key(spec: TaskSpec) -> tuple[str, str, int, int]:
    """What a measured training rate holds for: the task, the units and the batch size."""
    return ("task", spec.task, spec.hidden_dim, spec.batch_size)


def held_out_of(task: Task, metadata: dict[str, str]) -> TaskBatch:
    """The held-out sequences of a saved model of `task`: those of the seed and length its
    weights file records (the task's defaults where it records none)."""
    try:
        seq_len, seed = int(metadata.get("seq_len", task.defaults.seq_len)), trained_seed(metadata)
    except ValueError:
        raise ValueError("its metadata's seed or seq_len is not a whole number") from None
    # What the file says is checked as a training spec is, before sequences are drawn.
    for name, value, (low, high) in (
        ("seq_len", seq_len, task.seq_len_range),
        ("seed", seed, SEED_RANGE),
    ):
        if not low <= value <= high:
            raise ValueError(f"its metadata's {name} {value} is outside {low}..{high}")
    return held_out_batch(task, seed, seq_len)


def train_task(spec: TaskSpec, on_step: ProgressCallback | None = None) -> TrainOutcome:
    """Train `spec.task` (module-level, so a job's worker process can run it)."""
    return get_task(spec.task).train(spec, on_step)


def train_named(
    task: str,
    seed: int = 0,
    hidden_dim: int | None = None,
    steps: int | None = None,
    on_step: ProgressCallback | None = None,
    **options: Any,
) -> TrainOutcome:
    """Train any `train --task` name; `options` go to its trainer as keywords: batch_size,
    lr, seq_len for the tasks here (`task_spec`), `train_code`'s (e.g. max_seconds) for "code".
    """
    if task == "code":
        return train_code(seed=seed, hidden_dim=hidden_dim, steps=steps, on_step=on_step, **options)
    spec = task_spec(task, seed=seed, hidden_dim=hidden_dim, steps=steps, **options)
    return train_task(spec, on_step)


def model_from_state(task: str, state: dict[str, torch.Tensor]) -> nn.Module:
    """A trained model of `task` from its state_dict (e.g. a saved weights file read with
    safetensors); ValueError with the reason if the tensors do not fit the task's model."""
    weight_hh = state.get("recurrent.weight_hh_l0")
    if weight_hh is None or weight_hh.dim() != 2:
        raise ValueError(f"these weights hold no {task} model (no 'recurrent.weight_hh_l0')")
    hidden = int(weight_hh.shape[1])
    low, high = HIDDEN_RANGE
    if not low <= hidden <= high:
        raise ValueError(f"these weights have {hidden} units; a {task} model has {low} to {high}")
    if not all(bool(torch.isfinite(tensor).all()) for tensor in state.values()):
        raise ValueError("these weights hold NaN or infinite values")
    model = get_task(task).new_model(hidden, torch.Generator())
    try:
        model.load_state_dict({name: tensor.float() for name, tensor in state.items()})
    except RuntimeError as error:
        raise ValueError(f"these weights do not fit a {task} model: {error}") from None
    return model
