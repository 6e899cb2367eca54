"""The adding problem (lstm_core.analysis.training, the Memory lab's task) as a Task, trained.

The data, the model (SequenceRegressor: nn.LSTM on the two channels, a readout of the last h)
and the weights file stay the Memory lab's; training the task trains the LSTM and, with the
same budget, the vanilla RNN it is contrasted with (`train_pair`). The label "first_value" is
the first marked value from its mark to the step before the second mark: the steps where it
alone is in memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from lstm_core.analysis.training import (
    BASELINE_MSE,
    DEFAULT_BATCH,
    DEFAULT_HIDDEN,
    DEFAULT_LR,
    DEFAULT_STEPS,
    DEFAULT_TRAINING_RATE,
    SEQ_LEN_RANGE,
    TEST_SEQUENCES,
    SequenceRegressor,
    TrainSpec,
    adding_batch,
    evaluate,
    held_out_set,
    new_model,
)
from lstm_core.io.weights import WEIGHTS_FORMAT
from lstm_core.learned.tasks import (
    ProgressCallback,
    Task,
    TaskBatch,
    TaskDefaults,
    TaskSpec,
    TrainOutcome,
    fit,
    held_out_batch,
    label_cells,
    lstm_states,
)


def first_value_label(x: torch.Tensor, markers: torch.Tensor) -> torch.Tensor:
    """The first marked value from its mark to the step before the second, NaN elsewhere:
    (B, T) from x (B, T, 2) and the marker positions (B, 2)."""
    size, seq_len, _ = x.shape
    t = torch.arange(seq_len)  # (T,)
    in_gap = (t >= markers[:, :1]) & (t < markers[:, 1:])  # (B, T)
    first = x[torch.arange(size), markers[:, 0], 0]  # (B,)
    return torch.where(in_gap, first[:, None], torch.nan)


class AddingTask(Task):
    """The sum of two marked values; `kind` "lstm" (the task's model) or "rnn" (the contrast)."""

    name: ClassVar[str] = "adding"
    defaults: ClassVar[TaskDefaults] = TaskDefaults(
        hidden_dim=DEFAULT_HIDDEN,
        steps=DEFAULT_STEPS,
        batch_size=DEFAULT_BATCH,
        lr=DEFAULT_LR,
        seq_len=100,
        busy_rate=DEFAULT_TRAINING_RATE,
    )
    seq_len_range: ClassVar[tuple[int, int]] = SEQ_LEN_RANGE
    test_sequences: ClassVar[int] = TEST_SEQUENCES

    def __init__(self, kind: str = "lstm") -> None:
        self.kind = kind

    def batch(self, size: int, seq_len: int, generator: torch.Generator) -> TaskBatch:
        x, target, markers = adding_batch(size, seq_len, generator)
        return TaskBatch(
            inputs=x, targets=target, labels={"first_value": first_value_label(x, markers)}
        )

    def new_model(self, hidden_dim: int, generator: torch.Generator) -> nn.Module:
        return new_model(self.kind, hidden_dim, generator)

    def step_words(self, inputs: torch.Tensor) -> list[list[str]]:
        # Channel 0 the value, channel 1 the marker (lstm_core.analysis.training.adding_batch).
        return [
            [f"value {value:.2f}" + (", marked" if marker > 0 else "") for value, marker in row]
            for row in inputs.tolist()
        ]

    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        return ((output - batch.targets) ** 2).mean()

    def score(self, output: torch.Tensor, batch: TaskBatch) -> dict[str, float]:
        return {"mse": float(self.loss(output, batch)), "baseline_mse": BASELINE_MSE}

    def metadata(self, spec: TaskSpec) -> dict[str, str]:
        # The Memory lab's weights file, so its loader and `run --weights` read it.
        return {**super().metadata(spec), "format": WEIGHTS_FORMAT}

    def train(self, spec: TaskSpec, on_step: ProgressCallback | None = None) -> TrainOutcome:
        """The LSTM and the RNN with the same budget (on_step counts over both, 2 x steps);
        held_out adds the RNN's "rnn_mse", `seconds` is both models' time."""
        pair = train_pair(training_spec(spec), on_step)
        model = new_model("lstm", spec.hidden_dim, torch.Generator())
        model.load_state_dict(pair.lstm_state)
        test = held_out_batch(self, spec.seed, spec.seq_len)
        h, c = lstm_states(self, model, test.inputs)
        return TrainOutcome(
            task=self.name,
            seconds=pair.seconds,
            final_loss=pair.lstm_losses[-1],
            held_out={"mse": pair.lstm_mse, "baseline_mse": BASELINE_MSE, "rnn_mse": pair.rnn_mse},
            cells=label_cells(h, c, test.labels),
            state=pair.lstm_state,
            metadata=self.metadata(spec),
        )


def training_spec(spec: TaskSpec) -> TrainSpec:
    """The Memory lab's TrainSpec of an adding TaskSpec."""
    return TrainSpec(
        task="adding",
        seq_len=spec.seq_len,
        hidden_dim=spec.hidden_dim,
        steps=spec.steps,
        batch_size=spec.batch_size,
        lr=spec.lr,
        seed=spec.seed,
    )


def train_model(
    kind: str, spec: TrainSpec, on_step: ProgressCallback | None = None
) -> tuple[SequenceRegressor, list[float]]:
    """Train one model on `spec` with Adam; returns it and the loss of every step.

    The task loop of lstm_core.learned: weights come from a generator seeded with `spec.seed`,
    the training batches from one seeded with `spec.seed + 1`, so the LSTM and the RNN see
    exactly the same batches.
    """
    task_spec = TaskSpec(
        task="adding",
        seed=spec.seed,
        hidden_dim=spec.hidden_dim,
        steps=spec.steps,
        batch_size=spec.batch_size,
        lr=spec.lr,
        seq_len=spec.seq_len,
    )
    model, losses = fit(AddingTask(kind), task_spec, on_step)
    return model, losses


@dataclass(frozen=True)
class TrainingResult:
    """An LSTM and an RNN trained with the same budget, and their test MSE."""

    spec: TrainSpec
    lstm_state: dict[str, torch.Tensor]  # SequenceRegressor state_dict
    rnn_state: dict[str, torch.Tensor]
    lstm_losses: tuple[float, ...]  # training loss per step
    rnn_losses: tuple[float, ...]
    lstm_mse: float  # on the fixed test set
    rnn_mse: float
    seconds: float  # wall time for both models

    def to_json(self) -> dict[str, float | int]:
        """The `train --json` object."""
        return {
            "lstm_mse": self.lstm_mse,
            "rnn_mse": self.rnn_mse,
            "seconds": self.seconds,
            "steps": self.spec.steps,
        }


def train_pair(spec: TrainSpec, on_step: ProgressCallback | None = None) -> TrainingResult:
    """Train the LSTM, then the RNN, with the same budget. on_step counts over both (2 x steps)."""
    start = time.perf_counter()
    x_test, y_test, _ = held_out_set(spec)
    trained: dict[str, tuple[SequenceRegressor, list[float]]] = {}
    for offset, kind in enumerate(("lstm", "rnn")):

        def forward_progress(step: int, total: int, loss: float, offset: int = offset) -> None:
            if on_step is not None:
                on_step(offset * total + step, 2 * total, loss)

        trained[kind] = train_model(kind, spec, forward_progress)
    seconds = time.perf_counter() - start
    (lstm, lstm_losses), (rnn, rnn_losses) = trained["lstm"], trained["rnn"]
    return TrainingResult(
        spec=spec,
        lstm_state=_detached(lstm),
        rnn_state=_detached(rnn),
        lstm_losses=tuple(lstm_losses),
        rnn_losses=tuple(rnn_losses),
        lstm_mse=evaluate(lstm, x_test, y_test),
        rnn_mse=evaluate(rnn, x_test, y_test),
        seconds=seconds,
    )


def _detached(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}
