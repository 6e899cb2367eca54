"""The adding problem (lstm_core.analysis.training, the Memory lab's task) as a Task.

The data, the model (SequenceRegressor: nn.LSTM on the two channels, a readout of the last h)
and the weights file stay the Memory lab's; training the task trains the LSTM and, with the
same budget, the vanilla RNN it is contrasted with (`train_pair`). The label "first_value" is
the first marked value from its mark to the step before the second mark: the steps where it
alone is in memory.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from lstm_core.analysis.training import (
    BASELINE_MSE,
    DEFAULT_BATCH,
    DEFAULT_HIDDEN,
    DEFAULT_LR,
    DEFAULT_STEPS,
    SEQ_LEN_RANGE,
    TEST_SEQUENCES,
    TrainSpec,
    adding_batch,
    new_model,
    train_pair,
)
from lstm_core.io.weights import WEIGHTS_FORMAT
from lstm_core.learned.tasks import (
    ProgressCallback,
    Task,
    TaskBatch,
    TaskDefaults,
    TaskSpec,
    TrainOutcome,
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
