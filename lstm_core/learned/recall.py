"""Recall: keep a marked value across a gap while the output stays busy with the input.

Every sequence has three channels over T steps: channel 0 (VALUE) a fresh U(-1, 1) value at
every step, channel 1 (MARK) 1 at one early step, channel 2 (QUERY) 1 at one step in the second
half (the value channel reads 0 there). The per-step target is the current value, except at
the query, where it is the value seen at the mark. So the one readout of h is busy with the
input at every step, and the marked value has to be kept somewhere else across a gap of tens
of steps (16 to 39 at the default T = 40): the label "stored_value" is that value from the
mark to the step before the query (undefined elsewhere), and "current_input" is the value
being read.

Predicting the mean (0) at the query scores MSE = Var(U(-1, 1)) = 1/3: BASELINE_MSE.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from lstm_core.learned.tasks import (
    StepRegressor,
    Task,
    TaskBatch,
    TaskDefaults,
    init_parameters,
)

VALUE, MARK, QUERY = 0, 1, 2  # the input channels
CHANNELS = 3
MARK_WINDOW = 5  # the mark falls in the first MARK_WINDOW steps
BASELINE_MSE = 1.0 / 3.0  # Var(U(-1, 1)): predicting the mean at every query
# Added to the forget gate's bias at initialisation (Gers et al. 2000): a unit starts out
# keeping C for several steps, so the query's error reaches back to the mark at all.
FORGET_BIAS = 2.0


@torch.no_grad()
def recall_sequences(
    size: int, seq_len: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x (B, T, 3), target (B, T) and the (mark, query) steps (B, 2).

    Mark uniform in [0, min(MARK_WINDOW, T // 2)), query uniform in [T // 2, T).
    """
    if seq_len < 4:
        raise ValueError("recall needs seq_len >= 4")
    values = torch.rand(size, seq_len, generator=generator) * 2.0 - 1.0  # (B, T)
    mark = torch.randint(0, min(MARK_WINDOW, seq_len // 2), (size,), generator=generator)
    query = torch.randint(seq_len // 2, seq_len, (size,), generator=generator)
    rows = torch.arange(size)
    values[rows, query] = 0.0
    x = torch.zeros(size, seq_len, CHANNELS)  # (B, T, 3)
    x[:, :, VALUE] = values
    x[rows, mark, MARK] = 1.0
    x[rows, query, QUERY] = 1.0
    target = values.clone()  # (B, T)
    target[rows, query] = values[rows, mark]
    return x, target, torch.stack([mark, query], dim=1)


def stored_value_label(x: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """The marked value at every step from the mark to the step before the query, NaN
    elsewhere: (B, T) from x (B, T, 3) and the (mark, query) steps (B, 2)."""
    size, seq_len, _ = x.shape
    t = torch.arange(seq_len)  # (T,)
    mark, query = steps[:, :1], steps[:, 1:]  # (B, 1)
    in_gap = (t >= mark) & (t < query)  # (B, T)
    stored = x[torch.arange(size), steps[:, 0], VALUE]  # (B,)
    return torch.where(in_gap, stored[:, None], torch.nan)


class RecallTask(Task):
    """Recall the marked value at the query, report the current value at every other step.
    Score: MSE at the queries (and at the other steps) against BASELINE_MSE."""

    name: ClassVar[str] = "recall"
    description: ClassVar[str] = (
        "Three channels (value, mark, query): the output follows the current value at every "
        "step, and at the query, 16-39 steps after the mark at the default length, must give "
        "the marked value. Look for a unit whose C holds the stored value across the gap."
    )
    defaults: ClassVar[TaskDefaults] = TaskDefaults(
        hidden_dim=16, steps=300, batch_size=128, lr=1e-2, seq_len=40, busy_rate=410.0
    )
    seq_len_range: ClassVar[tuple[int, int]] = (4, 1000)
    test_sequences: ClassVar[int] = 512

    def batch(self, size: int, seq_len: int, generator: torch.Generator) -> TaskBatch:
        x, target, steps = recall_sequences(size, seq_len, generator)
        labels = {"stored_value": stored_value_label(x, steps), "current_input": x[:, :, VALUE]}
        return TaskBatch(inputs=x, targets=target, labels=labels)

    def new_model(self, hidden_dim: int, generator: torch.Generator) -> nn.Module:
        model = init_parameters(StepRegressor(CHANNELS, hidden_dim), hidden_dim, generator)
        with torch.no_grad():
            model.recurrent.bias_ih_l0[hidden_dim : 2 * hidden_dim] += FORGET_BIAS  # f rows
        return model

    def step_words(self, inputs: torch.Tensor) -> list[list[str]]:
        def words(step: list[float]) -> str:
            if step[QUERY] > 0:
                return "query"
            value = f"value {step[VALUE]:+.2f}"
            return f"{value}, marked" if step[MARK] > 0 else value

        return [[words(step) for step in row] for row in inputs.tolist()]

    def step_answers(self, output: torch.Tensor, batch: TaskBatch) -> list[list[str]]:
        return [
            [
                f"{value:+.2f} (target {target:+.2f})"
                for value, target in zip(row, want, strict=True)
            ]
            for row, want in zip(output.tolist(), batch.targets.tolist(), strict=True)
        ]

    def _errors(self, output: torch.Tensor, batch: TaskBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """MSE at the query steps and at every other step."""
        squared = (output - batch.targets) ** 2  # (B, T)
        query = batch.inputs[:, :, QUERY] > 0  # (B, T)
        return squared[query].mean(), squared[~query].mean()

    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        # The two errors weigh the same: the one query step counts as much as all busy steps.
        recall, busy = self._errors(output, batch)
        return recall + busy

    def score(self, output: torch.Tensor, batch: TaskBatch) -> dict[str, float]:
        recall, busy = self._errors(output, batch)
        return {"recall_mse": float(recall), "baseline_mse": BASELINE_MSE, "busy_mse": float(busy)}

    def score_summary(self, score: dict[str, float]) -> str:
        ratio = score["baseline_mse"] / max(score["recall_mse"], 1e-12)
        against = (
            f"{ratio:,.0f}× below predicting the mean"
            if ratio >= 2
            else "no better than predicting the mean"
        )
        return (
            f"MSE {score['recall_mse']:.4f} at the queries of held-out sequences: {against} "
            f"({score['baseline_mse']:.3f}); MSE {score['busy_mse']:.4f} at every other step, "
            "where the output follows the input."
            + (
                ""
                if ratio >= 10
                else " It has not learned to keep the value yet: train longer or with another seed."
            )
        )
